/**
 * The "all" role: every subsystem in one process, wired in data order (reading top to bottom
 * shows the path): source → ingest (decode, continuity, WAL, ring) → storage (batches → Parquet,
 * catalog) → maintenance → query; http is served by src/main.ts. Each subsystem has its own
 * start, stop and readiness (src/pipeline/subsystem.ts); this file says which run and in what
 * order they stop.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BookApi } from "../book/api.ts";
import { BackfillAdopter } from "../catalog/index.ts";
import type { Certificate, CertTable, KlineReconciler } from "../completeness/index.ts";
import type { Config } from "../config/index.ts";
import { SymbolLookup } from "../decode/binance/index.ts";
import type { BookCommit } from "../ingest/ingest.ts";
import type { OpenGap } from "../model/gaps.ts";
import type { RowColumns } from "../model/row.ts";
import { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID } from "../model/tables.ts";
import { type Logger, Registry, registerProcessMetrics, stageLogger } from "../obs/index.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { DegradationManager } from "../resilience/degradation.ts";
import { Readiness } from "../resilience/readiness.ts";
import { Ring } from "../ring/ring.ts";
import { type BooksSide, openBooks } from "./books.ts";
import { openCompleteness } from "./completeness.ts";
import { openGovernor } from "./governor.ts";
import { openIngest } from "./ingest.ts";
import { openMaintenance } from "./maintenance.ts";
import { registerPipelineMetrics } from "./metrics.ts";
import { openQuery } from "./query.ts";
import { type Intake, openIntake, sourceSubsystem } from "./source.ts";
import { openStorage } from "./storage.ts";
import { once, registerChecks, type Subsystem } from "./subsystem.ts";

export type { OpenGap };

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
  /** Order books (/v1/book), when K2_STREAMS lists depth. */
  readonly books?: BookApi;
  /** A completeness certificate of one (table, symbol, UTC day) (src/completeness/certificate.ts). */
  certify(table: CertTable, symbol: string, date: string, spotPages: number): Promise<Certificate>;
  /** Last id accepted per "table:SYMBOL" (-1: none yet): how far this process has come. */
  lastIds(): Record<string, number>;
  /**
   * Order-book rows into storage (WAL → ring → Parquet), exactly once by id: the book capture's
   * entry (src/ingest/ingest.ts onBookRows, model/book-rows.ts for the row layout).
   */
  bookRows(rows: RowColumns, from: number, count: number): BookCommit;
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
  const watch = registerProcessMetrics(registry, config);
  const lag = watch.lag;
  const log = stageLogger(logger, "pipeline");
  const symbols = new SymbolTable(config.symbols);
  const lookup = new SymbolLookup(symbols);
  const ring = new Ring(config.ringCapacity);
  const walSeqBySlot = new Float64Array(ring.capacity);

  // source: the sessions open first; a hand-over takes the data dir once they deliver
  const sourceLog = stageLogger(logger, "source");
  const intake = await openIntake({ config, log: sourceLog, symbols, lookup });
  let handed: HandedOver | undefined;
  if (opts.takeOver) {
    intake.source.start();
    handed = await opts.takeOver(intake);
  }
  prepareDataDir(config.dataDir);

  // The consumer's tick feeds backpressure; the governor's levels decide what ingest accepts.
  let onTick = (_fill: number) => {};
  const storage = await openStorage(config, stageLogger(logger, "sink"), symbols, ring, walSeqBySlot, {
    onTick: (fill) => onTick(fill),
  });
  const governor = openGovernor({
    config,
    log,
    ring,
    intake,
    lag,
    writeLagMs: () => storage.batcher.writeLagMs(),
  });
  const { backpressure, degradation } = governor;
  onTick = (fill) => backpressure.update(fill);
  let engine: QueryEngine | undefined;
  let reconciler: KlineReconciler | undefined;
  let books: BooksSide | undefined;
  const ingest = openIngest(
    {
      config,
      log: sourceLog,
      symbols,
      lookup,
      ring,
      storage,
      walSeqBySlot,
      accepts: (t) => degradation.shouldAccept(TABLE_BY_ID[t]),
      onRow: (rows, slot) => engine?.hot.append(rows, slot),
      onKline: (k, slot) => reconciler?.push(k, slot),
      ...(config.streams.includes("depth")
        ? { onDepth: (f: string, recv: number) => books?.capture.onFrame(f, recv) ?? false }
        : {}),
    },
    intake,
  );
  const query = await openQuery({
    config,
    catalog: storage.catalog,
    symbols,
    gaps: ingest.ledger,
    degradation,
  });
  engine = query.engine;
  const completeness = openCompleteness({
    config,
    log,
    symbols,
    catalog: storage.catalog,
    engine,
    ingest,
    registry,
    archiveRoot: intake.archiveUrl,
  });
  reconciler = completeness.klines;
  books = openBooks({
    config,
    log: stageLogger(logger, "books"),
    symbols,
    lookup,
    ingest,
    catalog: storage.catalog,
    engine,
    ringCapacity: ring.capacity,
    registry,
  });
  const maintenance = openMaintenance({
    config,
    log,
    catalog: storage.catalog,
    pool: storage.pool,
    mirror: storage.mirror,
    degradation,
    adopter: new BackfillAdopter(storage.catalog, config.dataDir),
  });
  const replay = await ingest.recover(handed?.openGaps ?? []);

  const source = sourceSubsystem(intake, {
    config,
    log: sourceLog,
    delivering: opts.takeOver !== undefined,
    rowsAccepted: () => ingest.ingest.accepted.reduce((a, b) => a + b, 0),
    management: () => ({
      ring_fill: Number(ring.fillRatio().toFixed(4)),
      gap_backlog: ingest.repairer.backlog,
      pending_write_rows: storage.batcher.pendingRows(),
      degradation: degradation.levelName,
    }),
  });
  readiness.register("config", () => ({ ok: true, reason: "loaded" }));
  registerChecks(readiness, storage, source, query, governor);
  registerPipelineMetrics(
    registry,
    { ...intake, ...ingest },
    storage,
    source.health,
    degradation,
    ring,
    backpressure,
  );

  // Started consumer first, producers last; stopped the other way round (stopIngest below).
  const parts: readonly Subsystem[] = [
    storage,
    ingest,
    ...(books ? [books] : []),
    maintenance,
    query,
    completeness,
    governor,
    source,
  ];
  for (const p of parts) p.start();
  log.info({ shards: intake.source.shardCount, replayed: replay.replayed }, "ingest started");

  // Data order: no new frames, no repairs, no compaction, then every accepted row into files.
  const stopIngest = once(async () => {
    await source.stop();
    await completeness.stop();
    await books?.stop();
    await ingest.stop();
    await governor.stop();
    await maintenance.stop();
    await storage.stop();
    const openGaps = ingest.openGaps();
    log.info({ open_gaps: openGaps.length }, "ingest stopped");
    return { openGaps };
  });
  const stop = once(async () => {
    await stopIngest();
    await query.stop();
    await intake.sim?.stop();
    watch.stop();
    log.info("pipeline stopped");
  });
  return {
    registry,
    readiness,
    engine: query.engine,
    degradation,
    simUrl: intake.sim?.wsUrl,
    ...(books?.api ? { books: books.api } : {}),
    certify: (table, symbol, date, spotPages) => completeness.certify(table, symbol, date, spotPages),
    lastIds: () => ingest.lastIds(),
    bookRows: (rows, from, count) => ingest.ingest.onBookRows(rows, from, count),
    pauseMaintenance: () => maintenance.pause(),
    resumeMaintenance: () => maintenance.resume(),
    stopIngest,
    stop,
  };
}
