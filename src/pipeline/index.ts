/**
 * Wires the stages in data order; reading top to bottom shows the path:
 * source → decode → ring → sink (Parquet, WAL, DLQ) → catalog → query → http.
 */
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  applyRetention,
  compactClosedPartitions,
  compactSmallFiles,
  deleteRetired,
} from "../catalog/index.ts";
import { fileSourceOf, storedIdsOf } from "../catalog/views.ts";
import type { Config } from "../config/index.ts";
import { SymbolLookup, statusName } from "../decode/binance/index.ts";
import { FrameTag } from "../ingest/ingest.ts";
import { replayWal } from "../ingest/replay.ts";
import { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, TABLE_NAMES, Table, type TableId } from "../model/tables.ts";
import { type Logger, Registry, registerProcessMetrics, stageLogger } from "../obs/index.ts";
import { QueryEngine } from "../query/engine.ts";
import { DegradationManager, LEVEL_NAMES } from "../resilience/degradation.ts";
import { Readiness } from "../resilience/readiness.ts";
import { Ring } from "../ring/ring.ts";
import { adoptReplayIn } from "../sink/dlq/index.ts";
import { reconcile } from "../sink/s3/index.ts";
import { readWal } from "../sink/wal/index.ts";
import { nowUs } from "../source/binance/connection.ts";
import { TABLE_OF_STREAM } from "../source/binance/streams.ts";
import type { GapCause, GapTable } from "../source/gap-ledger.ts";
import { SourceHealth } from "../source/health.ts";
import { Backpressure } from "./backpressure.ts";
import { registerPipelineMetrics } from "./metrics.ts";
import { type Intake, openContinuity, openIntake, type SourceSide } from "./source.ts";
import { openStorage } from "./storage.ts";

/** An id gap still open when a K2 stops ingesting: the next owner repairs it. */
export interface OpenGap {
  readonly table: GapTable;
  readonly symbol: string;
  readonly from_id: number;
  readonly to_id: number;
  readonly cause: GapCause;
}

/** What the old owner handed over (src/owner/handover.ts): its open gaps. */
export interface HandedOver {
  readonly openGaps: readonly OpenGap[];
}

export interface BuildOptions {
  /**
   * A hand-over: called once the WebSocket sessions are open and staging (make-before-break),
   * before anything in the data dir is opened; resolves once this process owns the folder.
   */
  readonly takeOver?: (intake: Intake) => Promise<HandedOver>;
}

export interface Pipeline {
  readonly registry: Registry;
  readonly readiness: Readiness;
  readonly engine: QueryEngine;
  readonly degradation: DegradationManager;
  readonly simUrl: string | undefined;
  /** Last id accepted per "table:SYMBOL" (-1: none yet): how far this process has come. */
  lastIds(): Record<string, number>;
  /** Compaction and retention off (a running pass finishes first) / on again. */
  pauseMaintenance(): Promise<void>;
  resumeMaintenance(): void;
  /**
   * Stop ingesting and make everything accepted visible in Parquet; the WAL is then empty and
   * closed. Queries keep working (close() ends them). Returns the gaps still open. Idempotent.
   */
  stopIngest(): Promise<{ openGaps: OpenGap[] }>;
  /** stopIngest(), then release everything (query engine, simulator). Idempotent. */
  stop(): Promise<void>;
}

export function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, `.k2-write-probe-${process.pid}`);
  writeFileSync(probe, "ok");
  rmSync(probe);
}

export async function buildPipeline(
  config: Config,
  logger: Logger,
  opts: BuildOptions = {},
): Promise<Pipeline> {
  const registry = new Registry();
  const readiness = new Readiness();
  const lag = registerProcessMetrics(registry, config.lagWindowMs);
  const log = stageLogger(logger, "pipeline");

  // decode → ring
  const symbols = new SymbolTable(config.symbols);
  const lookup = new SymbolLookup(symbols);
  const ring = new Ring(config.ringCapacity);
  const walSeqBySlot = new Float64Array(ring.capacity);

  // intake: the simulator (K2_SOURCE=sim) and the WebSocket sessions; frames wait in a staging
  // buffer until the ingest is attached below
  const sourceLog = stageLogger(logger, "source");
  const intake = await openIntake({ config, log: sourceLog, symbols, lookup });
  let handed: HandedOver | undefined;
  if (opts.takeOver) {
    intake.source.start();
    handed = await opts.takeOver(intake);
  }
  prepareDataDir(config.dataDir);

  // sink (catalog, Parquet pool, WAL, batcher, DLQ)
  const storage = await openStorage(config, stageLogger(logger, "sink"), symbols, ring, walSeqBySlot);
  const { catalog, batcher, wal, dlq } = storage;
  const walLastSeqAtStart = wal.recovery.lastSeq;

  // degradation: decides, the stages act (quotes shed first; trades never silently)
  const degradation = new DegradationManager({
    rssBudgetBytes: config.rssBudgetMb * 1024 * 1024,
    onChange: (c) =>
      log.warn({ from: LEVEL_NAMES[c.from], to: LEVEL_NAMES[c.to], reasons: c.reasons }, "degradation level"),
  });

  // continuity (REST repair, sequencer, gap ledger, ingest) joins the intake to the ring and WAL;
  // the query engine reads the catalog + hot rows
  let engine: QueryEngine | undefined;
  const side: SourceSide = {
    ...intake,
    ...openContinuity(
      {
        config,
        log: sourceLog,
        symbols,
        lookup,
        ring,
        wal,
        walSeqBySlot,
        accepts: (t: TableId) => degradation.shouldAccept(TABLE_BY_ID[t]),
        onRow: (rows, slot) => engine?.hot.append(rows, slot),
      },
      intake,
    ),
  };
  engine = await QueryEngine.open(
    {
      source: fileSourceOf(catalog, () => symbols.names()),
      symbols,
      gaps: side.ledger,
      nowUs,
      budgetScale: () => degradation.queryBudgetScale,
    },
    {
      threads: config.queryThreads,
      memoryLimitMb: config.queryMemoryMb,
      hotRowsPerSymbol: config.queryHotRows,
      maxScanRows: config.queryMaxScanRows,
      maxRangeUs: config.queryMaxRangeDays * 86_400_000_000,
      candleCachePartials: config.queryCandleCache,
      rowCacheCells: config.queryRowCache,
    },
  );
  // Candles and rows cached for a file are useless once compaction or retention deleted it.
  catalog.onForget((paths) => {
    engine?.candles.dropFiles(paths);
    engine?.rowCache.dropFiles(paths);
  });

  // Frames recovered with `k2 dlq replay --out` (moved to <data>/replay-in/) join the WAL first,
  // so WAL replay applies the same exact-id dedupe to them.
  const replayIn = await adoptReplayIn(join(config.dataDir, "replay-in"), wal, FrameTag.REST);
  if (replayIn.files > 0 || replayIn.leftInPlace) log.info(replayIn, "replay-in adopted");

  // Recovery: what the WAL holds and no file does goes back into the ring, exactly once.
  for (const t of TABLE_NAMES) {
    for (const s of symbols.names()) {
      const max = catalog.maxId(t, s);
      if (max !== undefined) side.sequencer.seed(Table[t], symbols.id(s)!, max);
    }
  }
  const replay = await replayWal({
    records: () => readWal(join(config.dataDir, "wal")),
    lookup,
    symbols,
    ring,
    walSeqBySlot,
    stored: storedIdsOf(catalog),
    sequencer: side.sequencer,
    ledger: side.ledger,
    onGap: (g) => side.repairer.enqueue(g),
    makeRoom: async () => {
      batcher.drain();
      batcher.flushDue(true);
      await Bun.sleep(2);
    },
    onRow: (rows, slot) => engine?.hot.append(rows, slot),
    nowUs,
    gapMaxIds: config.gapMaxIds,
  });
  log.info({ ...replay, wal_last_seq: walLastSeqAtStart }, "WAL replayed");
  // The previous owner's open gaps are ours to repair now (the ledger lives in memory).
  for (const g of handed?.openGaps ?? [])
    side.repairer.enqueue(side.ledger.open(g.table, g.symbol, g.from_id, g.to_id, g.cause, nowUs()));
  const staged = intake.attach(side.ingest);
  if (staged > 0) log.info({ frames: staged }, "staged frames ingested");

  // Health tiers and readiness.
  const health = new SourceHealth(
    {
      shardStatus: () => side.source.shardStatus(),
      management: () => ({
        ring_fill: Number(ring.fillRatio().toFixed(4)),
        gap_backlog: side.repairer.backlog,
        pending_write_rows: batcher.pendingRows(),
        degradation: degradation.levelName,
      }),
    },
    {
      dataTimeoutMs: config.dataTimeoutMs,
      dataMs: config.healthDataMs,
      mgmtMs: config.healthMgmtMs,
      controlMs: config.healthControlMs,
      onManagement: (facts) => log.info(facts, "management tick"),
    },
  );
  readiness.register("config", () => ({ ok: true, reason: "loaded" }));
  readiness.register("data_dir", () => {
    try {
      accessSync(config.dataDir, constants.W_OK);
      return { ok: true, reason: config.dataDir };
    } catch (e) {
      return { ok: false, reason: `data dir ${config.dataDir} not writable: ${(e as Error).message}` };
    }
  });
  readiness.register("source", () => health.ready());
  readiness.register("sink", () => {
    const err = wal.lastError;
    if (err) return { ok: false, reason: `WAL: ${err.message}` };
    if (storage.writeBreaker.state === "open")
      return { ok: false, reason: "Parquet writes failing (breaker open)" };
    return { ok: true, reason: `${batcher.pendingRows()} rows pending` };
  });
  readiness.register("catalog", () => ({ ok: true, reason: `${catalog.size} files` }));
  const mirror = storage.mirror;
  if (mirror) {
    readiness.register("object_store", () => {
      const f = mirror.failing;
      if (!f) return { ok: true, reason: `${config.objectStore?.url}: ${mirror.pending} uploads pending` };
      const s = Math.round((performance.now() - f.sinceMs) / 1000);
      return {
        ok: false,
        reason: `${config.objectStore?.url} failing for ${s} s (${mirror.pending} uploads waiting): ${f.error.message}`,
      };
    });
  }
  readiness.register("query", () =>
    engine?.healthy ? { ok: true } : { ok: false, reason: "DuckDB not healthy" },
  );
  readiness.register("degradation", () =>
    degradation.level >= 4
      ? { ok: false, reason: `degradation ${degradation.levelName}` }
      : { ok: true, reason: degradation.levelName },
  );
  // Ring nearly full: stop reading the sockets until the sink has drained it (see backpressure.ts).
  const backpressure = new Backpressure({
    pause: (fill) => {
      side.source.pauseAll();
      log.warn({ fill }, "ring nearly full: pausing sockets");
    },
    resume: (fill) => {
      side.source.resumeAll();
      log.info({ fill }, "ring drained: resuming sockets");
    },
  });
  registerPipelineMetrics(registry, side, storage, health, degradation, ring, lag, backpressure);

  /** Move the in-memory dead letters to their files (the buffer only holds one interval's worth). */
  const persistDeadLetters = () => {
    for (const e of side.deadLetters.drain()) {
      const entry = {
        frame: e.frame,
        status: e.status,
        statusName: statusName(e.status),
        recvTimeUs: e.recv_time_us,
      };
      dlq.append({ ...entry, source: e.label });
    }
  };

  // The consumer loop: ring → batches → files; WAL segments go once their rows are in files.
  const timers: ReturnType<typeof setInterval>[] = [];
  const every = (ms: number, fn: () => void) => timers.push(setInterval(fn, ms));
  every(5, () => {
    batcher.drain();
    batcher.flushDue();
    backpressure.update(ring.fillRatio());
  });
  every(1000, () => {
    const mark = batcher.durableWatermark(wal.status().nextSeq - 1);
    if (mark > 0) wal.deleteUpTo(Math.min(mark, wal.durableSeq()));
    persistDeadLetters();
    dlq.flush();
    side.ingest.flushLosses();
    degradation.update(
      {
        ringFillRatio: ring.fillRatio(),
        sinkWriteLagMs: batcher.writeLagMs(),
        rssBytes: process.memoryUsage.rss(),
        eventLoopLagP99Ms: lag.measuredQuantile(0.99),
      },
      performance.now(),
    );
  });

  // Maintenance: merge small files (today's partitions: only the small ones), then closed days,
  // then retention (paused at high degradation levels); then the object store is made to match
  // the catalog (merged files uploaded, retired ones deleted). One job at a time.
  const compactAndRetain = async () => {
    const deps = { catalog, pool: storage.pool };
    await compactSmallFiles(deps, {
      minFiles: config.compactMinFiles,
      smallerThanRows: config.batchMaxRows / 2,
    });
    await compactClosedPartitions(deps, nowUs());
    if (config.retentionDays > 0) {
      await applyRetention({
        catalog,
        dataDir: config.dataDir,
        keepDays: config.retentionDays,
        nowUs: nowUs(),
      });
    }
    await deleteRetired(catalog);
  };
  let maintaining = false;
  let maintenancePaused = false;
  const maintain = async () => {
    if (maintaining || maintenancePaused) return;
    maintaining = true;
    try {
      if (!degradation.compactionPaused) await compactAndRetain();
      if (mirror) {
        const r = await reconcile(mirror, catalog);
        if (r.uploaded + r.deleted + r.uploadFailed + r.deleteFailed > 0)
          log.info(r, "object store reconciled");
      }
    } catch (e) {
      log.error({ err: e }, "maintenance failed; will retry");
    } finally {
      maintaining = false;
    }
  };
  every(config.maintenanceIntervalMs, () => void maintain());

  health.start();
  // Taking over, the sessions already deliver: ready at once rather than at the first data tick.
  if (opts.takeOver) health.dataTick();
  else side.source.start();
  log.info({ shards: side.source.shardCount, replayed: replay.replayed }, "ingest started");

  let ingestStopped: Promise<{ openGaps: OpenGap[] }> | undefined;
  const stopIngest = async (): Promise<{ openGaps: OpenGap[] }> => {
    side.source.stop();
    side.repairer.stop();
    health.stop();
    for (const t of timers) clearInterval(t);
    mirror?.stopBackground(); // a reconcile pass waiting on a slow store must not hold the drain
    while (maintaining) await Bun.sleep(10);
    await side.repairer.whenIdle(); // a page in flight ends its gap's ledger entry first
    side.ingest.flushLosses();
    batcher.flushDue(true);
    const drained = await batcher.idle(Math.max(1000, config.shutdownGraceMs - 1000));
    if (!drained)
      log.error(
        { pending: batcher.pendingRows() },
        "stopping with rows not yet in files (they stay in the WAL)",
      );
    // Uploads still waiting for the store give up; their files and WAL rows stay for the next start.
    if (mirror?.pending) log.warn({ pending: mirror.pending }, "stopping with uploads not done");
    mirror?.stop();
    // Every row in a file (and uploaded): the WAL has nothing left to give a successor.
    if (drained && !mirror?.pending) await wal.retire();
    else await wal.close();
    persistDeadLetters();
    dlq.close();
    await storage.pool.close();
    const openGaps = side.ledger
      .entries()
      .filter((e) => e.state === "pending" || e.state === "repairing")
      .map(({ table, symbol, from_id, to_id, cause }) => ({ table, symbol, from_id, to_id, cause }));
    log.info(
      { rows_written: batcher.rowsWritten, files: batcher.filesWritten, open_gaps: openGaps.length },
      "ingest stopped",
    );
    return { openGaps };
  };
  let closed: Promise<void> | undefined;
  return {
    registry,
    readiness,
    engine,
    degradation,
    simUrl: side.sim?.wsUrl,
    lastIds() {
      // Only subscribed streams have a last id worth asking for.
      const out: Record<string, number> = {};
      for (const kind of config.streams) {
        const t = TABLE_OF_STREAM[kind];
        for (const sym of symbols.names())
          out[`${t}:${sym}`] = side.sequencer.last(Table[t], symbols.id(sym)!);
      }
      return out;
    },
    async pauseMaintenance() {
      maintenancePaused = true;
      while (maintaining) await Bun.sleep(10);
    },
    resumeMaintenance() {
      maintenancePaused = false;
    },
    stopIngest() {
      ingestStopped ??= stopIngest();
      return ingestStopped;
    },
    stop() {
      closed ??= (async () => {
        ingestStopped ??= stopIngest();
        await ingestStopped;
        engine?.close();
        await side.sim?.stop();
        lag.stop();
        log.info("pipeline stopped");
      })();
      return closed;
    },
  };
}
