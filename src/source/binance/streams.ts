/**
 * Stream names and connection URLs. Binance: stream names use lower-case symbols
 * (`btcusdt@trade`); a connection carries at most 1024 streams; the combined form
 * `/stream?streams=a/b/c` wraps each event as {"stream":..,"data":..};
 * `timeUnit=MICROSECOND` makes every time field µs (K2 stores µs, so it asks for them).
 * Source: binance-spot-api-docs web-socket-streams.md (see ../shared/binance-protocol.md).
 */
export const BINANCE_MAX_STREAMS_PER_CONNECTION = 1024;

export type StreamKind = "trade" | "aggTrade" | "bookTicker" | "kline";

/** The table each stream kind fills (`kline` fills none: it checks the trades). */
export const TABLE_OF_STREAM = {
  trade: "trades",
  aggTrade: "agg_trades",
  bookTicker: "quotes",
  kline: null,
} as const;

/** The Binance stream name: `kline` is the 1-minute interval, the one the reconciliation reads. */
export function streamName(symbol: string, kind: StreamKind): string {
  return `${symbol.toLowerCase()}@${kind === "kline" ? "kline_1m" : kind}`;
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
