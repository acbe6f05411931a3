/**
 * The simulator's history as Binance's archive CSV (no header): the lines K2's archive reader
 * (src/archive/csv.ts) parses. Times follow the archive's date rule (src/archive/time-unit.ts):
 * ms in files dated before 2025-01-01, µs from then on.
 */
import { archiveTimeFromUs } from "../archive/index.ts";
import { formatDecimal } from "../model/decimal.ts";
import type { KlineRecord } from "./klines.ts";
import { quoteScaled } from "./klines.ts";
import { formatScaled } from "./market.ts";

/** Flat trade columns: id, price, qty, time µs, buyer-maker (0/1), repeated. */
export const TRADE_COLS = 5;
/** Flat aggTrade columns: agg id, price, qty, first id, last id, time µs, buyer-maker. */
export const AGG_COLS = 7;

const bool = (v: number) => (v === 1 ? "True" : "False");

export function tradesCsv(flat: readonly number[], dayStartMs: number, dropLast = false): string {
  const parts: string[] = [];
  const n = flat.length / TRADE_COLS - (dropLast ? 1 : 0);
  for (let r = 0; r < n; r++) {
    const o = r * TRADE_COLS;
    const p = flat[o + 1]!;
    const q = flat[o + 2]!;
    const t = archiveTimeFromUs(flat[o + 3]!, dayStartMs);
    parts.push(
      `${flat[o]},${formatScaled(p)},${formatScaled(q)},${formatDecimal(BigInt(quoteScaled(p, q)))},${t},${bool(flat[o + 4]!)},True\n`,
    );
  }
  return parts.join("");
}

export function aggTradesCsv(flat: readonly number[], dayStartMs: number, dropLast = false): string {
  const parts: string[] = [];
  const n = flat.length / AGG_COLS - (dropLast ? 1 : 0);
  for (let r = 0; r < n; r++) {
    const o = r * AGG_COLS;
    const t = archiveTimeFromUs(flat[o + 5]!, dayStartMs);
    parts.push(
      `${flat[o]},${formatScaled(flat[o + 1]!)},${formatScaled(flat[o + 2]!)},${flat[o + 3]},${flat[o + 4]},${t},${bool(flat[o + 6]!)},True\n`,
    );
  }
  return parts.join("");
}

export function klinesCsv(klines: readonly KlineRecord[], dayStartMs: number, dropLast = false): string {
  const parts: string[] = [];
  const t = (us: number) => archiveTimeFromUs(us, dayStartMs);
  const n = klines.length - (dropLast ? 1 : 0);
  for (let i = 0; i < n; i++) {
    const k = klines[i]!;
    parts.push(
      `${t(k.openUs)},${formatScaled(k.open)},${formatScaled(k.high)},${formatScaled(k.low)},${formatScaled(k.close)},${formatDecimal(k.volume)},${t(k.closeUs)},${formatDecimal(k.quoteVolume)},${k.count},${formatDecimal(k.takerBuyVolume)},${formatDecimal(k.takerBuyQuoteVolume)},0\n`,
    );
  }
  return parts.join("");
}
