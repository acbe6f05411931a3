/**
 * The aggTrade fast path, bytes form, for
 * `{"e":"aggTrade","E":..,"s":..,"a":..,"p":..,"q":..,"f":..,"l":..,"T":..,"m":..[,"M":..]}`
 * exactly as Binance sends it: one function, every field inline, written out longhand on purpose
 * (native-bench "decode trade (combined, bytes)" is its trade twin; see fast-scan.ts for why, what it
 * declines, and the bounds argument). fast-agg-trade.ts is the same code for the other form: keep the two in step
 * (fast.test.ts checks both against the generic path).
 */
import { FLAG_BUYER_MAKER, type RowColumns } from "../../model/index.ts";
import { finishAggTrade } from "./agg-trade.ts";
import { FAST_INT_LIMIT, INV_TWO32, MAX_EXACT, PAD, POW10, storeLarge } from "./fast-scan.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** The payload object at `p` ('{'): the position after its '}' with the row written, or -1. */
export function aggTradeFastBytes(
  f: Uint8Array,
  p: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recvTimeUs: number,
  mult: number,
): number {
  let d: number;
  let hi: number;
  let lo: number;
  let s: number;
  let v: number;
  // biome-ignore format: one line per literal, {"e":"aggTrade","E":
  if (f[p]! !== 123 || f[p + 1]! !== 34 || f[p + 2]! !== 101 || f[p + 3]! !== 34 || f[p + 4]! !== 58 || f[p + 5]! !== 34 || f[p + 6]! !== 97 || f[p + 7]! !== 103 || f[p + 8]! !== 103 || f[p + 9]! !== 84 || f[p + 10]! !== 114 || f[p + 11]! !== 97 || f[p + 12]! !== 100 || f[p + 13]! !== 101 || f[p + 14]! !== 34 || f[p + 15]! !== 44 || f[p + 16]! !== 34 || f[p + 17]! !== 69 || f[p + 18]! !== 34 || f[p + 19]! !== 58) return -1;
  p += 20;
  // event_time_us: 1–16 digits, no leading zero; int32 limbs of ≤ 9 and ≤ 7 digits
  d = f[p]! - 48;
  if (d < 1 || d > 9) return -1;
  hi = d;
  s = p++;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9 || p - s === 9) break;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  v = hi;
  if (d >= 0 && d <= 9) {
    lo = 0;
    s = p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 7) return -1;
      lo = (lo * 10 + d) | 0;
      p++;
    }
    v = hi * POW10[p - s]! + lo;
  }
  v *= mult;
  if (v >= MAX_EXACT) return -1;
  out.event_time_us[slot] = v;
  // biome-ignore format: one line per literal, ,"s":"
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 115 || f[p + 3]! !== 34 || f[p + 4]! !== 58 || f[p + 5]! !== 34) return -1;
  p += 6;
  // s: an interned symbol
  d = symbols.findBytes(f, p);
  if (d < 0) return -1;
  out.symbol_id[slot] = d;
  p = symbols.stop;
  // biome-ignore format: one line per literal, ","a":
  if (f[p]! !== 34 || f[p + 1]! !== 44 || f[p + 2]! !== 34 || f[p + 3]! !== 97 || f[p + 4]! !== 34 || f[p + 5]! !== 58) return -1;
  p += 6;
  // id: 1–16 digits, no leading zero; int32 limbs of ≤ 9 and ≤ 7 digits
  d = f[p]! - 48;
  if (d < 1 || d > 9) return -1;
  hi = d;
  s = p++;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9 || p - s === 9) break;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  v = hi;
  if (d >= 0 && d <= 9) {
    lo = 0;
    s = p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 7) return -1;
      lo = (lo * 10 + d) | 0;
      p++;
    }
    v = hi * POW10[p - s]! + lo;
  }
  if (v >= MAX_EXACT) return -1;
  out.id[slot] = v;
  // biome-ignore format: one line per literal, ,"p":"
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 112 || f[p + 3]! !== 34 || f[p + 4]! !== 58 || f[p + 5]! !== 34) return -1;
  p += 6;
  // dec0w: ≤ 9 integer digits, optional '.' and 1+ fraction digits (≤ 8 significant), '"'
  s = p;
  hi = 0;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9) break;
    if (p - s === 9) return -1;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  if (p === s) return -1;
  lo = 0;
  if (d === -2) {
    s = ++p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 8) {
        while (d === 0) d = f[++p]! - 48;
        break;
      }
      lo = (lo * 10 + d) | 0;
      p++;
    }
    if (p === s) return -1;
    if (p - s < 8) lo = (lo * PAD[p - s]!) | 0;
  }
  if (d !== -14) return -1;
  p++;
  // int64 words: the low one in int32 arithmetic (mod 2^32), the high one exact in a double
  if (hi < FAST_INT_LIMIT) {
    out.dec0w[2 * slot] = (Math.imul(hi, 100_000_000) + lo) | 0;
    out.dec0w[2 * slot + 1] = Math.floor((hi * 1e8 + lo) * INV_TWO32);
  } else storeLarge(out.dec0w, slot, hi, lo);
  // biome-ignore format: one line per literal, ,"q":"
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 113 || f[p + 3]! !== 34 || f[p + 4]! !== 58 || f[p + 5]! !== 34) return -1;
  p += 6;
  // dec1w: ≤ 9 integer digits, optional '.' and 1+ fraction digits (≤ 8 significant), '"'
  s = p;
  hi = 0;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9) break;
    if (p - s === 9) return -1;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  if (p === s) return -1;
  lo = 0;
  if (d === -2) {
    s = ++p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 8) {
        while (d === 0) d = f[++p]! - 48;
        break;
      }
      lo = (lo * 10 + d) | 0;
      p++;
    }
    if (p === s) return -1;
    if (p - s < 8) lo = (lo * PAD[p - s]!) | 0;
  }
  if (d !== -14) return -1;
  p++;
  // int64 words: the low one in int32 arithmetic (mod 2^32), the high one exact in a double
  if (hi < FAST_INT_LIMIT) {
    out.dec1w[2 * slot] = (Math.imul(hi, 100_000_000) + lo) | 0;
    out.dec1w[2 * slot + 1] = Math.floor((hi * 1e8 + lo) * INV_TWO32);
  } else storeLarge(out.dec1w, slot, hi, lo);
  // biome-ignore format: one line per literal, ,"f":
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 102 || f[p + 3]! !== 34 || f[p + 4]! !== 58) return -1;
  p += 5;
  // first_id: 1–16 digits, no leading zero; int32 limbs of ≤ 9 and ≤ 7 digits
  d = f[p]! - 48;
  if (d < 1 || d > 9) return -1;
  hi = d;
  s = p++;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9 || p - s === 9) break;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  v = hi;
  if (d >= 0 && d <= 9) {
    lo = 0;
    s = p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 7) return -1;
      lo = (lo * 10 + d) | 0;
      p++;
    }
    v = hi * POW10[p - s]! + lo;
  }
  if (v >= MAX_EXACT) return -1;
  out.first_id[slot] = v;
  // biome-ignore format: one line per literal, ,"l":
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 108 || f[p + 3]! !== 34 || f[p + 4]! !== 58) return -1;
  p += 5;
  // last_id: 1–16 digits, no leading zero; int32 limbs of ≤ 9 and ≤ 7 digits
  d = f[p]! - 48;
  if (d < 1 || d > 9) return -1;
  hi = d;
  s = p++;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9 || p - s === 9) break;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  v = hi;
  if (d >= 0 && d <= 9) {
    lo = 0;
    s = p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 7) return -1;
      lo = (lo * 10 + d) | 0;
      p++;
    }
    v = hi * POW10[p - s]! + lo;
  }
  if (v >= MAX_EXACT) return -1;
  out.last_id[slot] = v;
  // biome-ignore format: one line per literal, ,"T":
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 84 || f[p + 3]! !== 34 || f[p + 4]! !== 58) return -1;
  p += 5;
  // trade_time_us: 1–16 digits, no leading zero; int32 limbs of ≤ 9 and ≤ 7 digits
  d = f[p]! - 48;
  if (d < 1 || d > 9) return -1;
  hi = d;
  s = p++;
  for (;;) {
    d = f[p]! - 48;
    if (d < 0 || d > 9 || p - s === 9) break;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  v = hi;
  if (d >= 0 && d <= 9) {
    lo = 0;
    s = p;
    for (;;) {
      d = f[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 7) return -1;
      lo = (lo * 10 + d) | 0;
      p++;
    }
    v = hi * POW10[p - s]! + lo;
  }
  v *= mult;
  if (v >= MAX_EXACT) return -1;
  out.trade_time_us[slot] = v;
  // biome-ignore format: one line per literal, ,"m":
  if (f[p]! !== 44 || f[p + 1]! !== 34 || f[p + 2]! !== 109 || f[p + 3]! !== 34 || f[p + 4]! !== 58) return -1;
  p += 5;
  // m: true → FLAG_BUYER_MAKER (aggressor SELL)
  if (f[p]! === 116) {
    if (f[p + 1]! !== 114 || f[p + 2]! !== 117 || f[p + 3]! !== 101) return -1;
    out.flags[slot] = FLAG_BUYER_MAKER;
    p += 4;
  } else {
    if (f[p]! !== 102 || f[p + 1]! !== 97 || f[p + 2]! !== 108 || f[p + 3]! !== 115 || f[p + 4]! !== 101)
      return -1;
    out.flags[slot] = 0;
    p += 5;
  }
  // optional ,"M":true|false (ignored)
  if (f[p]! === 44) {
    if (f[p + 1]! !== 34 || f[p + 2]! !== 77 || f[p + 3]! !== 34 || f[p + 4]! !== 58) return -1;
    if (f[p + 5]! === 116) {
      if (f[p + 6]! !== 114 || f[p + 7]! !== 117 || f[p + 8]! !== 101) return -1;
      p += 9;
    } else {
      if (
        f[p + 5]! !== 102 ||
        f[p + 6]! !== 97 ||
        f[p + 7]! !== 108 ||
        f[p + 8]! !== 115 ||
        f[p + 9]! !== 101
      )
        return -1;
      p += 10;
    }
  }
  if (f[p]! !== 125) return -1;
  finishAggTrade(out, slot, recvTimeUs);
  return p + 1;
}
