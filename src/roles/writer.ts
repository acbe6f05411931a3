/**
 * Role `writer` (shard K2_WRITER_SHARD of K2_SHARDS): bus → files. The shard's durable consumer
 * feeds the bus writer (rows once by (table, symbol, id), acked after their file is committed);
 * the catalog and the maintenance subsystem cover only this shard's symbols, so only this writer
 * compacts and retires its files. Other shards' writers may share the folder: their files live
 * under other symbol= partitions.
 */

import { hostname } from "node:os";
import { acquireLease, shardOf } from "../bus/index.ts";
import { BackfillAdopter, backfillJournalSize, Catalog, rebuildCatalog } from "../catalog/index.ts";
import type { Config } from "../config/index.ts";
import { SymbolTable } from "../model/symbols.ts";
import { type Logger, Registry, registerProcessMetrics, stageLogger } from "../obs/index.ts";
import { openBus } from "../pipeline/bus.ts";
import { openBusWriter } from "../pipeline/bus-writer.ts";
import { prepareDataDir } from "../pipeline/index.ts";
import { openMaintenance } from "../pipeline/maintenance.ts";
import { openMirror } from "../pipeline/storage.ts";
import { once, registerChecks, type Subsystem } from "../pipeline/subsystem.ts";
import { DegradationManager } from "../resilience/degradation.ts";
import { Readiness } from "../resilience/readiness.ts";
import { ParquetWriterPool } from "../sink/parquet/index.ts";
import { atStartup, pullMissing, pushAll } from "../sink/s3/index.ts";
import type { RoleProcess } from "./role.ts";
import { openWriterKlines } from "./writer-klines.ts";

/**
 * A file this writer's compaction or retention replaced stays on disk this long: query nodes list
 * the folder every second (src/roles/query.ts) and may be reading it until then: a minute covers
 * a listing and a long query many times over.
 */
export const RETIRED_GRACE_MS = 60_000;

/** A writer's id in its file names: `w<i>of<N>` (1-based, as K2_WRITER_SHARD counts). */
export function writerId(shard: number, shards: number): string {
  return `w${shard}of${shards}`;
}

/** The symbol of a file from its Hive path (…/symbol=<SYMBOL>/<name>.parquet). */
function symbolOfPath(path: string): string {
  return /symbol=([^/]+)\//.exec(path)?.[1] ?? "";
}

export async function startWriter(config: Config, logger: Logger): Promise<RoleProcess> {
  const registry = new Registry();
  const readiness = new Readiness();
  const watch = registerProcessMetrics(registry, config);
  const shard = config.writerShard - 1;
  const log = stageLogger(logger, `writer-${config.writerShard}-of-${config.shards}`);
  if (shard >= config.shards)
    throw new RangeError(`K2_WRITER_SHARD=${config.writerShard} is beyond K2_SHARDS=${config.shards}`);
  prepareDataDir(config.dataDir);

  // K2_DATA_DIR=s3://…: this shard's objects come down first, its local files go up (as a
  // single process does at start); other shards' objects are their writers' business.
  const ownsRef = (ref: { symbol: string }) => shardOf(ref.symbol, config.shards) === shard;
  const mirror = openMirror(config, log);
  if (mirror) {
    const pulled = await atStartup(mirror, "download", () => pullMissing(mirror, ownsRef));
    log.info(
      { store: config.objectStore?.url, ...pulled },
      "object store: this shard's missing files downloaded",
    );
  }
  // Backfills journaled before the scan below are in it: adoption starts after them.
  const journalAtStart = backfillJournalSize(config.dataDir);
  // This shard's files only (another writer's temp files are not ours to remove).
  const rebuilt = await rebuildCatalog(config.dataDir, { removeSuperseded: false, removeTemp: false });
  const catalog = new Catalog();
  for (const f of rebuilt.catalog.all()) if (shardOf(f.symbol, config.shards) === shard) catalog.add(f);
  // Files a compaction of this shard replaced before a restart: deleted after the grace, as usual.
  catalog.retire(rebuilt.superseded.filter((p) => shardOf(symbolOfPath(p), config.shards) === shard));
  log.info({ files: catalog.size }, "catalog of this shard rebuilt from disk");
  if (mirror) await atStartup(mirror, "upload", () => pushAll(mirror, catalog, ownsRef));
  // Its id in every file name: no two writers of a shared folder can pick one name.
  const pool = await ParquetWriterPool.start({
    dataDir: config.dataDir,
    workers: 1,
    maxInFlight: 16,
    writer: writerId(config.writerShard, config.shards),
  });
  const bus = await openBus(config, log, `k2-writer-${config.writerShard}-of-${config.shards}`);
  // One writer per shard across hosts (the data-dir claim covers one host): a lease in JetStream.
  const shardName = `writer-${config.writerShard}-of-${config.shards}`;
  const lease = await acquireLease(
    bus.js,
    bus.jsm,
    shardName,
    { id: `${hostname()}-${process.pid}`, pid: process.pid, host: hostname() },
    config.natsReplicas,
  ).catch(async (e) => {
    await bus.stop();
    throw e;
  });
  void lease.lost.then((why) => {
    if (why === "released") return;
    // Another writer of this shard writes now: stop at once, unacked messages go to it.
    log.fatal(`${why}: exiting`);
    process.exit(1);
  });
  // `k2 backfill` into this folder: the shard's writer adopts the files of its symbols, so its
  // stored-id check, compaction and retention count them (docs/SCALING.md "Completeness in the roles").
  const adopter = new BackfillAdopter(
    catalog,
    config.dataDir,
    (symbol) => shardOf(symbol, config.shards) === shard,
    journalAtStart,
  );
  const adopt = async () => {
    const files = await adopter.pass();
    if (files.length > 0)
      log.info(
        { files: files.length, rows: files.reduce((n, f) => n + f.rows, 0) },
        "backfill files adopted",
      );
  };
  const symbols = new SymbolTable();
  // K2_STREAMS lists kline: the recorders publish closed klines, this writer judges its shard's.
  const klines = config.streams.includes("kline")
    ? await openWriterKlines({ config, log, catalog, symbols, registry, bus, writerName: shardName })
    : undefined;
  const writer = await openBusWriter({
    config,
    log,
    bus,
    catalog,
    pool,
    symbols,
    mirror,
    adopt,
    ...(klines ? { onKline: klines.onKline } : {}),
  });
  // A writer has no ring to fill; the manager stays NORMAL unless memory runs out.
  const degradation = new DegradationManager({ rssBudgetBytes: config.rssBudgetMb * 1024 * 1024 });
  const maintenance = openMaintenance({
    config,
    log,
    catalog,
    pool,
    mirror,
    degradation,
    retiredGraceMs: RETIRED_GRACE_MS,
    owns: ownsRef,
    adopter,
  });

  readiness.register("config", () => ({
    ok: true,
    reason: `role writer ${config.writerShard}/${config.shards}`,
  }));
  readiness.register("catalog", () => ({ ok: true, reason: `${catalog.size} files` }));
  registerChecks(readiness, bus);
  registry.counter("k2_rows_written_total", "rows in visible Parquet files", () => writer.stats.rowsWritten);
  registry.counter("k2_files_written_total", "Parquet files committed", () => writer.stats.files);
  registry.counter("k2_bus_messages_total", "bus messages written and acked", () => writer.stats.messages);
  registry.counter(
    "k2_duplicates_dropped_total",
    "rows dropped as already stored (another recorder's copy, a redelivery)",
    () => writer.stats.duplicates,
  );
  registry.counter(
    "k2_bus_malformed_total",
    "bus messages refused as malformed",
    () => writer.stats.malformed,
  );
  registry.gauge("k2_catalog_files", "visible Parquet files of this shard", () => catalog.size);

  const parts: readonly Subsystem[] = [writer, maintenance, ...(klines ? [klines] : [])];
  for (const p of parts) p.start();
  log.info({ shard: config.writerShard, shards: config.shards }, "writer started");
  return {
    role: "writer",
    registry,
    readiness,
    stop: once(async () => {
      await writer.stop();
      await klines?.stop();
      await lease.release();
      await maintenance.stop();
      mirror?.stop();
      await bus.stop();
      await pool.close();
      watch.stop();
      log.info("writer stopped");
    }),
  };
}
