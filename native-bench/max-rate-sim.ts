/**
 * The max-rate market the end-to-end benches share (e2e-throughput.ts, ws-receive.ts): the
 * simulator as its own process, paced by its reader (a tick waits while the reader has unsent
 * bytes, so nothing is dropped and the market runs exactly as fast as that reader drains),
 * started paused so a phase times only the market.
 */

/** Up to 72 symbols: the majors, then synthetic ones. */
export function benchSymbols(n: number): string[] {
  return ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT"]
    .concat(Array.from({ length: 64 }, (_, i) => `SYM${i}USDT`))
    .slice(0, n);
}

export interface MaxRateMarket {
  readonly symbols: readonly string[];
  /** Stream kinds subscribed (trade, aggTrade, bookTicker). */
  readonly streams: readonly string[];
  /** Trades per symbol per tick, and the tick. */
  readonly perTick: number;
  readonly tickMs: number;
}

/** The simulator's arguments (src/sim/main.ts) for that market. */
export function maxRateSimArgs(m: MaxRateMarket): string[] {
  return [
    "--symbols",
    m.symbols.join(","),
    "--no-auto-symbols",
    "--rate",
    "1e9",
    "--max-trades-per-tick",
    String(m.perTick),
    "--tick-ms",
    String(m.tickMs),
    "--pace-bytes",
    String(1 << 20),
    "--backpressure-bytes",
    String(256 << 20),
    "--seed",
    "7",
    ...(m.streams.includes("bookTicker") ? ["--record-quote-ids"] : []),
    "--faults",
    '{"paused":true}',
  ];
}

/** The URL K2 itself subscribes with (combined streams, µs timestamps), for a bench's own client. */
export function streamUrl(wsUrl: string, m: MaxRateMarket): string {
  const names = m.symbols.flatMap((s) => m.streams.map((k) => `${s.toLowerCase()}@${k}`));
  return `${wsUrl}/stream?streams=${names.join("/")}&timeUnit=MICROSECOND`;
}
