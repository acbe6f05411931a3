/**
 * The maintenance subsystem: adopt the files `k2 backfill` committed (catalog/adopt.ts), merge small files (today's partitions: only the small ones), then
 * closed days, then retention (paused at high degradation levels); then the object store is made
 * to match the catalog (merged files uploaded, retired ones deleted). One job at a time, every
 * K2_MAINTENANCE_INTERVAL_MS; a hand-over pauses it so two processes never compact one folder.
 */
import {
  applyRetention,
  type BackfillAdopter,
  type Catalog,
  compactClosedPartitions,
  compactSmallFiles,
  deleteRetired,
} from "../catalog/index.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../obs/logger.ts";
import type { DegradationManager } from "../resilience/degradation.ts";
import type { ParquetWriterPool } from "../sink/parquet/index.ts";
import { type ObjectMirror, type Owns, reconcile } from "../sink/s3/index.ts";
import { nowUs } from "../source/binance/connection.ts";
import { once, Timers } from "./subsystem.ts";

export interface MaintenanceDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly catalog: Catalog;
  readonly pool: ParquetWriterPool;
  readonly mirror: ObjectMirror | undefined;
  readonly degradation: DegradationManager;
  /** How long a replaced file stays on disk for readers in other processes (0: once unpinned). */
  readonly retiredGraceMs?: number;
  /** The objects this process uploads and deletes (a writer: its shard's); all by default. */
  readonly owns?: Owns;
  /**
   * Adds the files `k2 backfill` committed into the folder (the owner of a single-process folder,
   * a writer for its shard's symbols); absent: nothing is adopted.
   */
  readonly adopter?: BackfillAdopter;
}

export function openMaintenance(d: MaintenanceDeps) {
  const { config, catalog, mirror, log } = d;
  const adopter = d.adopter;
  const compactAndRetain = async () => {
    const deps = { catalog, pool: d.pool };
    if (adopter) {
      const files = await adopter.pass();
      if (files.length > 0)
        log.info(
          { files: files.length, rows: files.reduce((n, f) => n + f.rows, 0) },
          "backfill files adopted",
        );
    }
    await compactSmallFiles(deps, {
      minFiles: config.compactMinFiles,
      smallerThanRows: config.batchMaxRows / 2,
      maxMergedRows: config.batchMaxRows,
    });
    await compactClosedPartitions(deps, nowUs());
    if (config.retentionDays > 0)
      await applyRetention({
        catalog,
        dataDir: config.dataDir,
        keepDays: config.retentionDays,
        nowUs: nowUs(),
      });
    await deleteRetired(catalog, d.retiredGraceMs ?? 0);
  };
  let running = false;
  let paused = false;
  const pass = async () => {
    if (running || paused) return;
    running = true;
    try {
      if (!d.degradation.compactionPaused) await compactAndRetain();
      if (mirror) {
        const r = await reconcile(mirror, catalog, "background", d.owns);
        if (r.uploaded + r.deleted + r.uploadFailed + r.deleteFailed > 0)
          log.info(r, "object store reconciled");
      }
    } catch (e) {
      log.error({ err: e }, "maintenance failed; will retry");
    } finally {
      running = false;
    }
  };
  const idle = async () => {
    while (running) await Bun.sleep(10);
  };
  const timers = new Timers();
  return {
    name: "maintenance",
    checks: {},
    start() {
      timers.every(config.maintenanceIntervalMs, () => void pass());
    },
    /** Off (a running pass finishes first). */
    async pause() {
      paused = true;
      await idle();
    },
    resume() {
      paused = false;
    },
    stop: once(async () => {
      timers.clear();
      paused = true;
      mirror?.stopBackground(); // a reconcile pass waiting on a slow store must not hold the drain
      await idle();
    }),
  };
}
