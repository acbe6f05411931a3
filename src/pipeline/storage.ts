/**
 * The storage side, set up in data order: object store pulled (K2_DATA_DIR=s3://…: files the
 * local folder lacks come back first) → catalog (rebuilt from disk: files are the truth) → local
 * files the store lacks pushed → Parquet writer pool (a Worker) → WAL (recovered) → batcher
 * (ring consumer) → DLQ persister. Started, it consumes the ring (batches → files) and drops WAL
 * segments once their rows are in files; stopped, it makes every accepted row visible first.
 */
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { rebuildCatalog } from "../catalog/index.ts";
import type { Config, StreamKind } from "../config/index.ts";
import { rowColumnsBytes } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import { CircuitBreaker } from "../resilience/circuit-breaker.ts";
import type { Check } from "../resilience/readiness.ts";
import type { Ring } from "../ring/ring.ts";
import { type Batch, Batcher, INITIAL_ROWS, isoDate } from "../sink/batcher.ts";
import { DlqPersister } from "../sink/dlq/index.ts";
import { batchOver, ParquetWriterPool } from "../sink/parquet/index.ts";
import { atStartup, ObjectMirror, pullMissing, pushAll } from "../sink/s3/index.ts";
import { WalWriter } from "../sink/wal/index.ts";
import { TABLES_PER_STREAM } from "../source/binance/streams.ts";
import { once, Timers } from "./subsystem.ts";

const STORE_LOG_INTERVAL_MS = 10_000;

export interface StorageOptions {
  /** After each consumer tick, with the ring's fill (backpressure reads it). */
  readonly onTick?: (ringFill: number) => void;
}

export async function openStorage(
  config: Config,
  log: Logger,
  symbols: SymbolTable,
  ring: Ring,
  walSeqBySlot: Float64Array,
  opts: StorageOptions = {},
) {
  const dataDir = config.dataDir;
  const store = config.objectStore;
  const mirror = openMirror(config, log);
  if (mirror) {
    const pulled = await atStartup(mirror, "download", () => pullMissing(mirror));
    log.info({ store: store?.url, ...pulled }, "object store: missing files downloaded");
  }
  const rebuilt = await rebuildCatalog(dataDir, { removeSuperseded: true, removeTemp: true });
  const catalog = rebuilt.catalog;
  for (const p of rebuilt.problems) log.warn({ path: p.path, kind: p.kind }, `catalog: ${p.message}`);
  log.info({ files: catalog.size, problems: rebuilt.problems.length }, "catalog rebuilt from disk");
  if (mirror) {
    // Before ingest (and so before any WAL segment is dropped): files a crash left unuploaded.
    const pushed = await atStartup(mirror, "upload", () => pushAll(mirror, catalog));
    log.info({ store: store?.url, ...pushed }, "object store reconciled");
  }

  const pool = await ParquetWriterPool.start({ dataDir, workers: 1, maxInFlight: 16 });
  // Writes go through a breaker: a failing disk opens it, writes wait instead of hammering it.
  const writeBreaker = new CircuitBreaker({
    name: "sink_write",
    failureThreshold: 3,
    openDurationMs: 2000,
    onStateChange: (c) => log.warn({ from: c.from, to: c.to }, "sink write breaker"),
  });

  const wal = openWal(config, log);
  const batcher = new Batcher(
    ring,
    walSeqBySlot,
    {
      async write(b: Batch) {
        // The batch's own buffer (shared memory) becomes the file's columns: no copy, and the rows
        // stay here for a retry whatever the write does.
        const tb = batchOver(
          { table: TABLE_BY_ID[b.kind], symbol: symbols.name(b.symbolId), symbolId: b.symbolId, day: b.day },
          b.rows,
          b.count,
        );
        if (typeof tb === "number") throw new Error(`batch refused by the Parquet batch: status ${tb}`);
        const info = await writeBreaker.exec(() => pool.write(tb));
        catalog.add(info);
        if (!mirror) return;
        // Queries see the rows now; the WAL may drop them once this resolves, i.e. once the object
        // exists. The pin keeps compaction from deleting the file while its upload waits.
        const release = catalog.pin([info.path]);
        try {
          await mirror.upload(info);
        } finally {
          release();
        }
      },
    },
    {
      maxRows: config.batchMaxRows,
      flushIntervalMs: config.flushIntervalMs,
      sharedRows: true,
      ...batchPool(config.symbols.length, config.streams),
      onWriteError: (e, b) =>
        log.error(
          { table: TABLE_BY_ID[b.kind], date: isoDate(b.day), rows: b.count, failures: b.failures },
          `parquet write failed, will retry: ${(e as Error).message}`,
        ),
    },
  );

  const dlq = DlqPersister.open({ dir: join(dataDir, "dlq"), maxTotalBytes: config.deadLetterMaxBytes });

  const checks: Record<string, Check> = {
    data_dir: () => {
      try {
        accessSync(dataDir, constants.W_OK);
        return { ok: true, reason: dataDir };
      } catch (e) {
        return { ok: false, reason: `data dir ${dataDir} not writable: ${(e as Error).message}` };
      }
    },
    sink: () => {
      const err = wal.lastError;
      if (err) return { ok: false, reason: `WAL: ${err.message}` };
      if (writeBreaker.state === "open")
        return { ok: false, reason: "Parquet writes failing (breaker open)" };
      return { ok: true, reason: `${batcher.pendingRows()} rows pending` };
    },
    catalog: () => ({ ok: true, reason: `${catalog.size} files` }),
  };
  if (mirror) {
    checks.object_store = () => {
      const f = mirror.failing;
      if (!f) return { ok: true, reason: `${store?.url}: ${mirror.pending} uploads pending` };
      const s = Math.round((performance.now() - f.sinceMs) / 1000);
      return {
        ok: false,
        reason: `${store?.url} failing for ${s} s (${mirror.pending} uploads waiting): ${f.error.message}`,
      };
    };
  }

  const timers = new Timers();
  return {
    name: "storage",
    catalog,
    pool,
    wal,
    batcher,
    dlq,
    writeBreaker,
    mirror,
    checks,
    /** The consumer loop: ring → batches → files; WAL segments go once their rows are in files. */
    start() {
      consume(timers, batcher, wal, opts.onTick);
    },
    /**
     * Every accepted row into a visible file (and uploaded), then the WAL — empty now — is retired;
     * rows that could not be written stay in the WAL for the next start. Call once the ring has
     * no more producers (the ingest subsystem stopped).
     */
    stop: once(async () => {
      timers.clear();
      const drained = await drainBatcher(batcher, config, log);
      // Uploads still waiting for the store give up; their files and WAL rows stay for the next start.
      if (mirror?.pending) log.warn({ pending: mirror.pending }, "stopping with uploads not done");
      mirror?.stop();
      if (drained && !mirror?.pending) await wal.retire();
      else await wal.close();
      dlq.close();
      await pool.close();
      log.info({ rows_written: batcher.rowsWritten, files: batcher.filesWritten }, "storage stopped");
    }),
  };
}

export type Storage = Awaited<ReturnType<typeof openStorage>>;

/** The object store mirror when K2_DATA_DIR is an s3:// URL (local copy in the data dir), else none. */
export function openMirror(config: Config, log: Logger): ObjectMirror | undefined {
  const store = config.objectStore;
  if (!store) return undefined;
  // During an outage every waiting upload fails every ≤ 30 s: one line per 10 s says it all.
  let lastStoreLogMs = Number.NEGATIVE_INFINITY;
  const mirror: ObjectMirror = new ObjectMirror({
    store,
    dataDir: config.dataDir,
    onError: (e) => {
      const now = performance.now();
      if (now - lastStoreLogMs < STORE_LOG_INTERVAL_MS) return;
      lastStoreLogMs = now;
      const counts = { failures: mirror.uploadFailures, pending: mirror.pending };
      log.warn({ kind: e.kind, op: e.op, code: e.code, ...counts }, `object store: ${e.message}`);
    },
  });
  return mirror;
}

/** The write-ahead log under `<data>/wal`, recovered (what a crash left is read back by ingest). */
export function openWal(config: Config, log: Logger): WalWriter {
  const wal = WalWriter.open({
    dir: join(config.dataDir, "wal"),
    fsyncIntervalMs: config.walFsyncMs,
    flushIntervalMs: 5,
    inline: !config.walWorker,
    onError: (e) => log.error({ kind: e.kind, op: e.op }, `WAL: ${e.message}`),
  });
  for (const p of wal.recovery.problems) log.warn({ problem: p }, "WAL recovery");
  return wal;
}

/** The consumer loop: ring → batches → their writer; WAL segments go once their rows are written. */
export function consume(
  timers: Timers,
  batcher: Batcher,
  wal: WalWriter,
  onTick?: (fill: number) => void,
): void {
  timers.every(5, () => {
    batcher.drain();
    batcher.flushDue();
    onTick?.(batcher.ring.fillRatio());
  });
  timers.every(1000, () => {
    const mark = batcher.durableWatermark(wal.status().nextSeq - 1);
    if (mark > 0) wal.deleteUpTo(Math.min(mark, wal.durableSeq()));
  });
}

/** Cut every batch and wait (bounded by the grace period) until all are written; false if not. */
export async function drainBatcher(batcher: Batcher, config: Config, log: Logger): Promise<boolean> {
  batcher.flushDue(true);
  const drained = await batcher.idle(Math.max(1000, config.shutdownGraceMs - 1000));
  if (!drained)
    log.error(
      { pending: batcher.pendingRows() },
      "stopping with rows not yet written (they stay in the WAL)",
    );
  return drained;
}

/**
 * What the batch buffers may hold together before any grows, and what the free ones may hold
 * after writes: bounds memory whatever the keys.
 */
const BATCH_POOL_BYTES = 64 * 1024 * 1024;

/**
 * The batcher's pool for this many symbols and streams: room for every key's open batch and one
 * being written (a pool smaller than the keys stalls the ring: 300 order books are 900 keys),
 * each buffer starting small enough that the pool stays within BATCH_POOL_BYTES (a buffer grows
 * when a burst needs it; after its write it is kept while the free buffers fit BATCH_POOL_BYTES).
 */
export function batchPool(symbols: number, streams: readonly StreamKind[]) {
  let tables = 0;
  for (const k of streams) tables += TABLES_PER_STREAM[k];
  const maxBatches = Math.max(64, 2 * symbols * tables);
  const fit = BATCH_POOL_BYTES / (maxBatches * rowColumnsBytes(1));
  const initialRows = Math.max(256, Math.min(INITIAL_ROWS, 2 ** Math.floor(Math.log2(fit))));
  return { maxBatches, initialRows, poolBytes: BATCH_POOL_BYTES };
}
