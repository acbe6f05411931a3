/**
 * Simulator options: one frozen object, defaults modelled on Binance's published limits
 * (web-socket-streams.md "WebSocket Limits", rest-api.md "LIMITS"). `parseSimArgs` is the only
 * argv reader; nothing in src/sim reads process.env.
 */
import {
  applySwitches,
  type FaultPatch,
  type FaultSwitches,
  initialFaultSwitches,
  validateFaultPatch,
} from "./faults.ts";
import { BOOK_DEFAULTS } from "./generator.ts";

export interface SimOptions {
  host: string;
  /** 0 = ephemeral port chosen by the OS. */
  port: number;
  /** Symbols generated from start; others are created on first subscription if autoCreateSymbols. */
  symbols: string[];
  autoCreateSymbols: boolean;
  /**
   * Keep every bookTicker update id sent to a subscriber in the ground truth (quotes have no REST
   * history, so only the recorder's own sockets can prove none was lost). Off by default: a long
   * soak would hold a range per update.
   */
  recordQuoteIds: boolean;
  /** Bound on symbols (configured + auto-created); each holds up to historyLimit trades. */
  maxSymbols: number;
  /** Trades per second per symbol. */
  ratePerSec: number;
  /**
   * Book mode: a real order book per symbol (limit orders, cancels, marketable orders filling
   * against it), so trades are fills against the book and bookTicker is its top; adds the depth
   * streams, GET /api/v3/depth and the book's ground truth (bookAt). Off: the trade-only random
   * walk, unchanged (same frames for the same seed, same top speed).
   */
  books: boolean;
  /** Book mode: levels per side at most (a new level past it evicts the worst one). */
  bookMaxLevels: number;
  /** Book mode: mean limit orders + cancels between two marketable orders (at most twice this). */
  bookOrdersPerTrade: number;
  /**
   * Book mode: how far back bookAt can rebuild the book (also bounded to 1,000,000 events per
   * symbol). About 50 bytes per event: ~0.9 MB per symbol per 10 min at 10 trades/s.
   */
  bookTruthMs: number;
  seed: number;
  startTradeId: number;
  startAggId: number;
  startUpdateId: number;
  /** Fixed simulator clock origin (epoch ms) for deterministic timestamps; null = wall clock. */
  startTimeMs: number | null;
  /**
   * Whole UTC days of history before the clock start's day, generated at start and served in the
   * public archive's layout under /archive/ (archive-store.ts). 0 = no archive.
   */
  archiveDays: number;
  /** Trades per second per symbol in the archived history (a day at 10/s is 864,000 trades). */
  archiveRatePerSec: number;
  /** Generation/send timer period: all frames due in a tick are sent corked together. */
  tickMs: number;
  /** Per symbol per tick; bounds a tick's work so a huge rate cannot freeze the event loop. */
  maxTradesPerTick: number;
  /** Trades (and aggTrades) kept per symbol for REST. */
  historyLimit: number;
  /** Binance: server ping every 20 s. */
  pingIntervalMs: number;
  /** Binance: disconnect when no pong within 1 minute. */
  pongTimeoutMs: number;
  /** Binance: 5 incoming messages per second per connection. */
  maxIncomingPerSec: number;
  /** Binance: 1024 streams per connection. */
  maxStreamsPerConnection: number;
  /** Binance: 6000 request weight per minute per IP. */
  restWeightLimit: number;
  restWeightWindowMs: number;
  /** Requests made while under a 429 back-off before the IP is banned (418). */
  restStrikesBeforeBan: number;
  restBanMs: number;
  /** Slow consumers past this many buffered bytes are disconnected, as Binance does. */
  backpressureLimitBytes: number;
  /**
   * 0 = off (Binance's behaviour). Otherwise generation skips a tick while any subscriber has more
   * than this many bytes waiting unsent: the market then runs exactly as fast as its slowest
   * reader drains, with nothing lost — what a max-rate benchmark needs (native-bench/e2e-throughput.ts).
   */
  paceBytes: number;
  faults: FaultSwitches;
}

export const DAY_MS = 86_400_000;
/**
 * Trades the archive's history may hold in all (archiveDays × 86,400 s × archiveRatePerSec ×
 * configured symbols): it is generated at start and kept in memory. Measured: one day at 10/s
 * (864,000 trades) takes ~2 s to generate and ~5 s to zip on first request, ~430 MB RSS.
 */
export const MAX_ARCHIVE_TRADES = 5_000_000;

export const DEFAULT_SIM_OPTIONS: Readonly<SimOptions> = Object.freeze({
  host: "127.0.0.1",
  port: 0,
  symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"],
  autoCreateSymbols: true,
  recordQuoteIds: false,
  maxSymbols: 256,
  ratePerSec: 10,
  books: false,
  bookMaxLevels: BOOK_DEFAULTS.maxLevels,
  bookOrdersPerTrade: BOOK_DEFAULTS.ordersPerTrade,
  bookTruthMs: BOOK_DEFAULTS.truthMs,
  seed: 1,
  startTradeId: 1000,
  startAggId: 100,
  startUpdateId: 1_000_000,
  startTimeMs: null,
  archiveDays: 0,
  archiveRatePerSec: 0.5,
  tickMs: 20,
  maxTradesPerTick: 20_000,
  historyLimit: 100_000,
  pingIntervalMs: 20_000,
  pongTimeoutMs: 60_000,
  maxIncomingPerSec: 5,
  maxStreamsPerConnection: 1024,
  restWeightLimit: 6000,
  restWeightWindowMs: 60_000,
  restStrikesBeforeBan: 2,
  restBanMs: 120_000,
  backpressureLimitBytes: 16 * 1024 * 1024,
  paceBytes: 0,
  faults: initialFaultSwitches(DAY_MS),
});

export class SimOptionError extends Error {
  readonly kind = "sim-option";
  readonly retryable = false;
}

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

type IntKey = {
  [K in keyof SimOptions]: SimOptions[K] extends number ? K : never;
}[keyof SimOptions];

/** [key, min, max]: every numeric option is an integer in range, except ratePerSec (may be fractional). */
const INT_RANGES: ReadonlyArray<readonly [IntKey, number, number]> = [
  ["port", 0, 65_535],
  ["seed", 0, 2 ** 32 - 1],
  ["maxSymbols", 1, 100_000],
  ["startTradeId", 0, 2 ** 52],
  ["startAggId", 0, 2 ** 52],
  ["startUpdateId", 0, 2 ** 52],
  ["archiveDays", 0, 31],
  ["tickMs", 1, 10_000],
  ["maxTradesPerTick", 1, 1_000_000],
  ["historyLimit", 1, 10_000_000],
  ["pingIntervalMs", 10, DAY_MS],
  ["pongTimeoutMs", 10, DAY_MS],
  ["maxIncomingPerSec", 1, 1_000_000],
  ["maxStreamsPerConnection", 1, 100_000],
  ["restWeightLimit", 1, 10_000_000],
  ["restWeightWindowMs", 10, DAY_MS],
  ["restStrikesBeforeBan", 0, 1_000_000],
  ["restBanMs", 0, DAY_MS],
  ["backpressureLimitBytes", 1024, 2 ** 32 - 1],
  ["paceBytes", 0, 2 ** 32 - 1],
  ["bookMaxLevels", 10, 100_000],
  ["bookOrdersPerTrade", 0, 64],
  ["bookTruthMs", 1000, DAY_MS],
];

/** What callers pass: any subset of options, and any subset of the fault switches. */
export type SimOptionsInput = Partial<Omit<SimOptions, "faults">> & {
  faults?: Partial<Omit<FaultSwitches, "rest" | "depth">> & {
    rest?: Partial<FaultSwitches["rest"]>;
    depth?: Partial<FaultSwitches["depth"]>;
  };
};

/** Merge a partial over the defaults, range-check and freeze. Throws SimOptionError. */
export function resolveSimOptions(partial: SimOptionsInput = {}): Readonly<SimOptions> {
  const { faults: faultPatch, ...rest } = partial;
  const d = DEFAULT_SIM_OPTIONS.faults;
  const faults: FaultSwitches = {
    ...d,
    rest: { ...d.rest },
    depth: { ...d.depth },
    garbageKinds: [...d.garbageKinds],
  };
  const o: SimOptions = { ...DEFAULT_SIM_OPTIONS, ...rest, faults };
  for (const [key, min, max] of INT_RANGES) {
    const v = o[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new SimOptionError(`option ${key}=${v}: expected an integer in ${min}..${max}`);
    }
  }
  if (!(Number.isFinite(o.ratePerSec) && o.ratePerSec > 0 && o.ratePerSec <= 1e9)) {
    throw new SimOptionError(`option ratePerSec=${o.ratePerSec}: expected a number in (0, 1e9]`);
  }
  if (!(Number.isFinite(o.archiveRatePerSec) && o.archiveRatePerSec > 0 && o.archiveRatePerSec <= 100)) {
    throw new SimOptionError(
      `option archiveRatePerSec=${o.archiveRatePerSec}: expected a number in (0, 100] (history is generated at start)`,
    );
  }
  const archiveTrades = o.archiveDays * 86_400 * o.archiveRatePerSec * new Set(o.symbols).size;
  if (archiveTrades > MAX_ARCHIVE_TRADES) {
    throw new SimOptionError(
      `archive history of ${Math.round(archiveTrades)} trades (archiveDays × 86400 × archiveRatePerSec × symbols) exceeds ${MAX_ARCHIVE_TRADES}`,
    );
  }
  if (o.startTimeMs !== null && !(Number.isInteger(o.startTimeMs) && o.startTimeMs >= 0)) {
    throw new SimOptionError(`option startTimeMs=${o.startTimeMs}: expected epoch milliseconds or null`);
  }
  if (typeof o.books !== "boolean") throw new SimOptionError(`option books=${o.books}: expected a boolean`);
  if (typeof o.host !== "string" || o.host.length === 0) throw new SimOptionError("option host: empty");
  for (const s of o.symbols) {
    if (!SYMBOL_RE.test(s)) throw new SimOptionError(`symbol ${s}: expected 2-20 of A-Z 0-9`);
  }
  if (faultPatch) {
    const err = validateFaultPatch(faultPatch);
    if (err) throw new SimOptionError(`option faults: ${err}`);
    applySwitches(o.faults, faultPatch as FaultPatch);
  }
  o.symbols = [...new Set(o.symbols)];
  return Object.freeze(o);
}

export function isValidSymbol(symbol: string): boolean {
  return SYMBOL_RE.test(symbol);
}
