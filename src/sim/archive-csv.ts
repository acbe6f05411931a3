/**
 * The simulator's history as Binance's archive CSV (no header): the lines K2's archive reader
 * (src/archive/csv.ts) parses. Times follow the archive's date rule (src/archive/time-unit.ts):
 * ms in files dated before 2025-01-01, µs from then on. Rendered in blocks of lines, so a big
 * day is never one huge string (archive-http.ts deflates block by block).
 */
import { archiveTimeFromUs } from "../archive/index.ts";
import { formatDecimal } from "../model/decimal.ts";
import { type KlineRecord, quoteScaled } from "./klines.ts";
import { formatScaled } from "./market.ts";

/** Flat trade columns: id, price, qty, time µs, buyer-maker (0/1), repeated. */
export const TRADE_COLS = 5;
/** Flat aggTrade columns: agg id, price, qty, first id, last id, time µs, buyer-maker. */
export const AGG_COLS = 7;

const bool = (v: number) => (v === 1 ? "True" : "False");
/** Lines per yielded block. */
const BLOCK_ROWS = 20_000;

/** Blocks of `line(i)` for i in [0, n). */
function* blocks(n: number, line: (i: number) => string): Generator<string> {
  for (let a = 0; a < n; a += BLOCK_ROWS) {
    const parts: string[] = [];
    for (let i = a; i < Math.min(n, a + BLOCK_ROWS); i++) parts.push(line(i));
    yield parts.join("");
  }
}

export function tradesCsv(flat: readonly number[], dayStartMs: number, dropLast = false): Generator<string> {
  return blocks(flat.length / TRADE_COLS - (dropLast ? 1 : 0), (r) => {
    const o = r * TRADE_COLS;
    const p = flat[o + 1]!;
    const q = flat[o + 2]!;
    const t = archiveTimeFromUs(flat[o + 3]!, dayStartMs);
    // quoteQty below 2^53 for every simulated price × lot, so formatScaled (no BigInt) is exact.
    return `${flat[o]},${formatScaled(p)},${formatScaled(q)},${formatScaled(quoteScaled(p, q))},${t},${bool(flat[o + 4]!)},True
`;
  });
}

export function aggTradesCsv(
  flat: readonly number[],
  dayStartMs: number,
  dropLast = false,
): Generator<string> {
  return blocks(flat.length / AGG_COLS - (dropLast ? 1 : 0), (r) => {
    const o = r * AGG_COLS;
    const t = archiveTimeFromUs(flat[o + 5]!, dayStartMs);
    return `${flat[o]},${formatScaled(flat[o + 1]!)},${formatScaled(flat[o + 2]!)},${flat[o + 3]},${flat[o + 4]},${t},${bool(flat[o + 6]!)},True
`;
  });
}

export function klinesCsv(
  klines: readonly KlineRecord[],
  dayStartMs: number,
  dropLast = false,
): Generator<string> {
  const t = (us: number) => archiveTimeFromUs(us, dayStartMs);
  return blocks(klines.length - (dropLast ? 1 : 0), (i) => {
    const k = klines[i]!;
    return `${t(k.openUs)},${formatScaled(k.open)},${formatScaled(k.high)},${formatScaled(k.low)},${formatScaled(k.close)},${formatDecimal(k.volume)},${t(k.closeUs)},${formatDecimal(k.quoteVolume)},${k.count},${formatDecimal(k.takerBuyVolume)},${formatDecimal(k.takerBuyQuoteVolume)},0
`;
  });
}
