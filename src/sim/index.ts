/**
 * Embedded Binance-compatible exchange simulator: Spot market streams (trade, aggTrade,
 * bookTicker, kline_1m; with `books` a real order book and the depth streams) over WebSocket, the REST market-data endpoints K2 repairs gaps with, its
 * own history in the public archive's layout (`archiveDays`, served under /archive/), fault
 * switches and exact ground truth. Everything on one loopback port.
 */
import type { ArchiveDataset, ArchiveFile } from "../archive/index.ts";
import type { ArchiveFault } from "./archive-http.ts";
import type { BookQuery, TrueBook } from "./book-truth.ts";
import type { DepthFault, FaultPatch, FaultSwitches, GarbageKind, RestFault } from "./faults.ts";
import type { GroundTruth } from "./ground-truth.ts";
import { resolveSimOptions, SimOptionError, type SimOptions, type SimOptionsInput } from "./options.ts";
import type { RestLogEntry } from "./rest-log.ts";
import { SimEngine } from "./server.ts";
import type { SimStatsSnapshot } from "./stats.ts";

export { ARCHIVE_FAULTS, type ArchiveFault } from "./archive-http.ts";
export { parseSimArgs, SIM_HELP } from "./args.ts";
export type { BookLevel, BookQuery, BookTruthSummary, TrueBook } from "./book-truth.ts";
export type {
  DepthFault,
  FaultActions,
  FaultPatch,
  FaultSwitches,
  GarbageKind,
  RestFault,
} from "./faults.ts";
export { GARBAGE_KINDS } from "./faults.ts";
export type { GroundTruth, IdRange, SymbolTruth } from "./ground-truth.ts";
export { expandRanges } from "./ground-truth.ts";
export type { FalsifiedKline, KlineRecord } from "./klines.ts";
export {
  DEFAULT_SIM_OPTIONS,
  resolveSimOptions,
  SimOptionError,
  type SimOptions,
  type SimOptionsInput,
} from "./options.ts";
export type { RestLogEntry, RestVerdict } from "./rest-log.ts";
export type { SimStatsSnapshot } from "./stats.ts";

export type FaultState = FaultSwitches & { refuseRemainingMs: number };

/** Typed shortcuts over applyFaults; each takes effect immediately. */
export interface SimFaultControls {
  /** Stop (true) or resume (false) the market: nothing is generated while paused. */
  pause(on: boolean): void;
  /** Close every connection: "close" = close frame 1001, "reset" = abrupt TCP close (no frame). */
  dropAll(mode?: "close" | "reset"): void;
  serverShutdown(): void;
  refuseConnections(ms: number): void;
  stall(on: boolean): void;
  sendPings(on: boolean): void;
  answerPings(on: boolean): void;
  garbage(ratio: number, kinds?: GarbageKind[]): void;
  skipTradeIds(count: number, symbol?: string): void;
  loseTradeIds(count: number, symbol?: string): void;
  maxLifetime(ms: number): void;
  rest(fault: Partial<RestFault>): void;
  /** Book mode: GET /api/v3/depth's faults (status 429/418, delay, stale snapshot). */
  depth(fault: Partial<DepthFault>): void;
  /** Book mode: drop the next `count` diff events of each depth stream speed. */
  skipDepthUpdates(count: number, symbol?: string): void;
  /** The next closed 1m kline with trades reports n + delta. */
  klineCountOff(delta: number, symbol?: string): void;
  /**
   * One archive file's fault ("none" clears it; clearing "stale" is Binance replacing the file);
   * a daily file unless `period` says monthly.
   */
  archive(file: Omit<ArchiveFile, "period"> & { period?: ArchiveFile["period"] }, fault: ArchiveFault): void;
  get(): FaultState;
}

export interface Simulator {
  readonly host: string;
  readonly port: number;
  /** ws://host:port — append /ws/<stream>, /ws or /stream?streams=... */
  readonly wsUrl: string;
  /** http://host:port — REST paths /api/v3/... */
  readonly restUrl: string;
  /** http://host:port/admin */
  readonly adminUrl: string;
  /** http://host:port/archive — the public archive's root (data/spot/daily/..., data/spot/monthly/... for whole months held); needs archiveDays > 0. */
  readonly archiveUrl: string;
  readonly options: Readonly<SimOptions>;
  readonly faults: SimFaultControls;
  /** Apply a FaultPatch (same JSON as POST /admin/faults). Throws SimOptionError if invalid. */
  applyFaults(patch: FaultPatch): void;
  groundTruth(): GroundTruth;
  /**
   * Book mode: the true book right after update id `at.updateId`, or in force at `at.timeUs` (every
   * change made at or before it), best `levels` per side (all by default); prices and quantities
   * scaled by 1e8. Null without books, for an unknown symbol, or outside what is kept
   * (`groundTruth().symbols[s].book` says: oldestUpdateId/oldestTimeUs .. updateId).
   */
  bookAt(symbol: string, at: BookQuery, levels?: number): TrueBook | null;
  /**
   * Book mode: when the `@depth@100ms` stream published (or, with the skip fault, dropped) the
   * diff event whose last update id is `u` — its E in µs; null if no kept event ends at `u`.
   */
  diffEventUs(symbol: string, u: number): number | null;
  stats(): SimStatsSnapshot;
  /** Every REST request answered, oldest first (bounded; see RestLog). */
  restLog(): RestLogEntry[];
  /** Simulator clock, epoch ms. */
  nowMs(): number;
  /** Archived days (YYYY-MM-DD, oldest first) and each file's row count, as generated (no faults). */
  archiveTruth(): { dates: string[]; rows(dataset: ArchiveDataset, symbol: string, date: string): number };
  /** Klines whose count the klineCountOff fault falsified, per symbol. */
  falsifiedKlines(symbol: string): ReadonlyArray<{ openUs: number; trueCount: number; sentCount: number }>;
  stop(): Promise<void>;
}

/** Start on opts.host:opts.port (port 0 = ephemeral). Throws SimOptionError on bad options. */
export async function startSimulator(opts: SimOptionsInput = {}): Promise<Simulator> {
  const options = resolveSimOptions(opts);
  const engine = new SimEngine(options);
  const server = engine.start();
  const port = server.port ?? options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const apply = (patch: FaultPatch): void => {
    const err = engine.applyFaults(patch);
    if (err) throw new SimOptionError(`fault patch: ${err}`);
  };
  const faults: SimFaultControls = {
    pause: (on) => apply({ paused: on }),
    dropAll: (mode = "close") => apply({ dropAll: mode }),
    serverShutdown: () => apply({ serverShutdown: true }),
    refuseConnections: (ms) => apply({ refuseForMs: ms }),
    stall: (on) => apply({ stall: on }),
    sendPings: (on) => apply({ sendPings: on }),
    answerPings: (on) => apply({ answerPings: on }),
    garbage: (ratio, kinds) =>
      apply(kinds ? { garbageRatio: ratio, garbageKinds: kinds } : { garbageRatio: ratio }),
    skipTradeIds: (count, symbol) => apply({ skipTradeIds: symbol ? { count, symbol } : { count } }),
    loseTradeIds: (count, symbol) => apply({ loseTradeIds: symbol ? { count, symbol } : { count } }),
    maxLifetime: (ms) => apply({ maxLifetimeMs: ms }),
    rest: (fault) => apply({ rest: fault }),
    depth: (fault) => apply({ depth: fault }),
    skipDepthUpdates: (count, symbol) => apply({ skipDepthUpdates: symbol ? { count, symbol } : { count } }),
    klineCountOff: (delta, symbol) => apply({ klineCountOff: symbol ? { delta, symbol } : { delta } }),
    archive: (file, fault) => apply({ archive: { file, fault } }),
    get: () => engine.faultState(),
  };
  return {
    host: options.host,
    port,
    wsUrl: `ws://${host}:${port}`,
    restUrl: `http://${host}:${port}`,
    adminUrl: `http://${host}:${port}/admin`,
    archiveUrl: `http://${host}:${port}/archive`,
    options,
    faults,
    applyFaults: apply,
    groundTruth: () => engine.groundTruth(),
    bookAt: (symbol, at, levels) => engine.bookAt(symbol, at, levels),
    diffEventUs: (symbol, u) => engine.diffEventUs(symbol, u),
    stats: () => engine.statsSnapshot(),
    restLog: () => engine.restLog.snapshot(),
    nowMs: () => Math.floor(engine.nowUs() / 1000),
    archiveTruth: () => ({
      dates: engine.archiveStore?.dates() ?? [],
      rows: (dataset, symbol, date) => engine.archiveStore?.rowCount(dataset, symbol, date) ?? 0,
    }),
    falsifiedKlines: (symbol) => engine.generatorOf(symbol)?.klines.falsified ?? [],
    stop: () => engine.stop(),
  };
}
