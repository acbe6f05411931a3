/**
 * One closed 1m kline against the stored trades whose ids lie in its [f, L]: a pure function,
 * so every rule of issue 17 part 1 is tested here without sockets.
 *
 * - count: stored rows with ids in [f, L] must number `n`. Binance counts only trades it
 *   made, so ids lost at the source make n < L - f + 1 legitimately; what counts is n.
 * - open/close: price of the lowest/highest stored id; high/low: max/min price; base volume: the
 *   sum of quantities — all exact (scaled integers).
 * - quote volume: Binance sums price × qty per trade at full precision, then prints 8 decimals;
 *   K2 can only reproduce each product exactly, so |Σ p·q − q_kline| may be up to one unit of
 *   the 8th decimal per trade (the rounding of each product in whichever order Binance applies it).
 */
import { DECIMAL_FACTOR } from "../model/decimal.ts";

export interface KlineFacts {
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
  /** Scaled by 1e8 (model/decimal.ts). */
  readonly open: bigint;
  readonly high: bigint;
  readonly low: bigint;
  readonly close: bigint;
  readonly volume: bigint;
  readonly quoteVolume: bigint;
}

/** Stored trades with ids in [f, L], ascending by id; prices and quantities scaled by 1e8. */
export interface StoredTrades {
  readonly ids: readonly number[];
  readonly prices: readonly bigint[];
  readonly quantities: readonly bigint[];
}

export type CheckOutcome = "ok" | "shortfall" | "surplus" | "values";

export interface CheckResult {
  readonly outcome: CheckOutcome;
  readonly stored: number;
  /** Inclusive id ranges inside [f, L] that no stored row has. */
  readonly missing: readonly (readonly [number, number])[];
  /** One sentence: what disagreed, with both numbers. Empty when ok. */
  readonly detail: string;
}

/** Id ranges of [from, to] absent from ascending `ids`. */
export function missingRanges(ids: readonly number[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let next = from;
  for (const id of ids) {
    if (id < next) continue; // a duplicate row: counted as surplus, not a range
    if (id > next) out.push([next, Math.min(id - 1, to)]);
    next = id + 1;
    if (next > to) break;
  }
  if (next <= to) out.push([next, to]);
  return out;
}

const dec = (v: bigint): string => {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? "-" : ""}${a / DECIMAL_FACTOR}.${(a % DECIMAL_FACTOR).toString().padStart(8, "0")}`;
};

export function checkKline(k: KlineFacts, t: StoredTrades): CheckResult {
  const stored = t.ids.length;
  const missing = k.count === 0 ? [] : missingRanges(t.ids, k.firstId, k.lastId);
  if (stored > k.count)
    return {
      outcome: "surplus",
      stored,
      missing,
      detail: `kline counts ${k.count} trades, ${stored} stored`,
    };
  if (stored < k.count) {
    const ids = missing.reduce((a, [f, l]) => a + l - f + 1, 0);
    return {
      outcome: "shortfall",
      stored,
      missing,
      detail: `kline counts ${k.count} trades, ${stored} stored, ${ids} ids of [${k.firstId}, ${k.lastId}] missing`,
    };
  }
  if (stored === 0) return { outcome: "ok", stored, missing, detail: "" };
  let high = t.prices[0]!;
  let low = high;
  let volume = 0n;
  let quote = 0n;
  for (let i = 0; i < stored; i++) {
    const p = t.prices[i]!;
    const q = t.quantities[i]!;
    if (p > high) high = p;
    if (p < low) low = p;
    volume += q;
    quote += p * q; // scaled 1e16
  }
  const open = t.prices[0]!;
  const close = t.prices[stored - 1]!;
  const wrong: string[] = [];
  if (open !== k.open) wrong.push(`open ${dec(k.open)} vs stored ${dec(open)}`);
  if (high !== k.high) wrong.push(`high ${dec(k.high)} vs stored ${dec(high)}`);
  if (low !== k.low) wrong.push(`low ${dec(k.low)} vs stored ${dec(low)}`);
  if (close !== k.close) wrong.push(`close ${dec(k.close)} vs stored ${dec(close)}`);
  if (volume !== k.volume) wrong.push(`volume ${dec(k.volume)} vs stored ${dec(volume)}`);
  const diff = quote - k.quoteVolume * DECIMAL_FACTOR;
  const tolerance = BigInt(stored) * DECIMAL_FACTOR;
  if (diff > tolerance || -diff > tolerance)
    wrong.push(`quote volume ${dec(k.quoteVolume)} vs stored ${dec(quote / DECIMAL_FACTOR)}`);
  if (wrong.length === 0) return { outcome: "ok", stored, missing, detail: "" };
  return {
    outcome: "values",
    stored,
    missing,
    detail: `kline disagrees with stored trades: ${wrong.join("; ")}`,
  };
}
