/**
 * Stream names and connection URLs. Binance: stream names use lower-case symbols
 * (`btcusdt@trade`); a connection carries at most 1024 streams; the combined form
 * `/stream?streams=a/b/c` wraps each event as {"stream":..,"data":..};
 * `timeUnit=MICROSECOND` makes every time field µs (K2 stores µs, so it asks for them).
 * Source: binance-spot-api-docs web-socket-streams.md (see ../shared/binance-protocol.md).
 */
export const BINANCE_MAX_STREAMS_PER_CONNECTION = 1024;

export type StreamKind = "trade" | "aggTrade" | "bookTicker" | "kline" | "depth" | "depth20";

/**
 * The id-sequenced table each stream kind fills: `kline` fills none (it checks the trades);
 * `depth` fills the book tables, whose continuity is the book synchroniser's, not an id sequence;
 * `depth20` only checks the books.
 */
export const TABLE_OF_STREAM = {
  trade: "trades",
  aggTrade: "agg_trades",
  bookTicker: "quotes",
  kline: null,
  depth: null,
  depth20: null,
} as const;

/** How many tables a stream kind fills (the storage batcher opens a batch per table and symbol). */
export const TABLES_PER_STREAM: Readonly<Record<StreamKind, number>> = {
  trade: 1,
  aggTrade: 1,
  bookTicker: 1,
  kline: 0,
  depth: 3, // book_deltas, book_snapshots, book_checkpoints
  depth20: 0,
};

/** Binance's name for each kind: 1-minute klines, and depth at its 100 ms speed. */
const STREAM_SUFFIX: Readonly<Record<StreamKind, string>> = {
  trade: "trade",
  aggTrade: "aggTrade",
  bookTicker: "bookTicker",
  kline: "kline_1m",
  depth: "depth@100ms",
  depth20: "depth20@100ms",
};

/** The Binance stream name, e.g. `btcusdt@depth@100ms`. */
export function streamName(symbol: string, kind: StreamKind): string {
  return `${symbol.toLowerCase()}@${STREAM_SUFFIX[kind]}`;
}

/** All stream names for the configured symbols × kinds, symbol-major (a symbol's streams stay together). */
export function streamNames(symbols: readonly string[], kinds: readonly StreamKind[]): string[] {
  const out: string[] = [];
  for (const s of symbols) for (const k of kinds) out.push(streamName(s, k));
  return out;
}

/** Split streams into connection shards of at most `perConnection` (≤ 1024) streams each. */
export function shardStreams(names: readonly string[], perConnection: number): string[][] {
  if (
    !Number.isInteger(perConnection) ||
    perConnection < 1 ||
    perConnection > BINANCE_MAX_STREAMS_PER_CONNECTION
  ) {
    throw new RangeError(`streams per connection must be in 1..${BINANCE_MAX_STREAMS_PER_CONNECTION}`);
  }
  const shards: string[][] = [];
  for (let i = 0; i < names.length; i += perConnection) shards.push(names.slice(i, i + perConnection));
  return shards;
}

export function combinedStreamUrl(base: string, streams: readonly string[], microseconds = true): string {
  const b = base.replace(/\/+$/, "");
  return `${b}/stream?streams=${streams.join("/")}${microseconds ? "&timeUnit=MICROSECOND" : ""}`;
}
