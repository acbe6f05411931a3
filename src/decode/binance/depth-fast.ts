/**
 * The exact level-list layout Binance sends in string frames, `[["0.00240000","10.00000000"],...]`
 * (no whitespace, prices and quantities with ≤ 8 integer digits below 90,071,992 and 1–8 fraction
 * digits, no leading zeros), read with `charCodeAt` straight through: no per-character type test,
 * no whitespace calls, no helper per value (a value outside those bounds, such as a quantity of
 * 9+ integer digits, goes through numbers.ts scanDecimal and the list goes on). Any other layout,
 * and any bad value, answers NOT_FAST and depth.ts reads the list again with the generic
 * scanner, which also gives every refusal its status, so results are the generic path's
 * (test/decode/depth.test.ts runs both layouts against the oracle).
 * Measured in native-bench/depth.bench.ts "decode depth diff".
 */
import type { DepthSide } from "./depth-frame.ts";
import { scanDecimal } from "./numbers.ts";

/** "Not the exact layout": read the list again with the generic scanner. */
export const NOT_FAST = -1_000;

const TWO32 = 4_294_967_296;
/** int·1e8 + frac is exact in a double while int < 2^53 / 1e8. */
const FAST_INT_LIMIT = 90_071_992;
/** 10^(8 - n): pads a fraction of n digits to 8. */
const PAD = [1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/** A quoted decimal at `p` ('"') into words 2·slot, 2·slot+1 of `w`: position after it, or NOT_FAST. */
function fastDecimal(f: string, p: number, w: Uint32Array, slot: number): number {
  if (f.charCodeAt(p) !== 0x22) return NOT_FAST;
  const s = p + 1;
  let i = s;
  let c = f.charCodeAt(i);
  let int = 0;
  // charCodeAt past the end is NaN: every comparison below fails and the frame is NOT_FAST.
  while (c >= 48 && c <= 57) {
    int = int * 10 + (c - 48);
    c = f.charCodeAt(++i);
  }
  const nInt = i - s;
  if (nInt === 0 || nInt > 8 || int >= FAST_INT_LIMIT || (nInt > 1 && f.charCodeAt(s) === 48))
    return NOT_FAST;
  let frac = 0;
  let nFrac = 0;
  if (c === 0x2e) {
    const fs = ++i;
    c = f.charCodeAt(i);
    while (c >= 48 && c <= 57) {
      frac = frac * 10 + (c - 48);
      c = f.charCodeAt(++i);
    }
    nFrac = i - fs;
    if (nFrac === 0 || nFrac > 8) return NOT_FAST;
  }
  if (c !== 0x22) return NOT_FAST;
  const v = int * 1e8 + frac * PAD[nFrac]!;
  const hi = Math.floor(v / TWO32);
  w[2 * slot] = v - hi * TWO32;
  w[2 * slot + 1] = hi;
  return i + 1;
}

/** The list at `pos` ('[') into `side`: position after its ']', or NOT_FAST (side contents then unspecified). */
export function fastLevels(f: string, pos: number, side: DepthSide): number {
  let p = pos + 1;
  if (f.charCodeAt(p) === 0x5d) {
    side.n = 0;
    return p + 1;
  }
  // Bounded: every iteration consumes one level of a finite frame (and at most maxLevels of them).
  for (let i = 0; ; i++) {
    if (f.charCodeAt(p) !== 0x5b || !side.ensure(i)) return NOT_FAST;
    let r = fastDecimal(f, p + 1, side.pxw, i);
    if (r === NOT_FAST) r = scanDecimal(f, p + 1, f.length, side.pxw, i); // e.g. 9+ integer digits
    if (r < 0 || f.charCodeAt(r) !== 0x2c) return NOT_FAST;
    p = fastDecimal(f, r + 1, side.qtyw, i);
    if (p === NOT_FAST) p = scanDecimal(f, r + 1, f.length, side.qtyw, i);
    if (p < 0 || f.charCodeAt(p) !== 0x5d) return NOT_FAST;
    const c = f.charCodeAt(p + 1);
    if (c === 0x5d) {
      side.n = i + 1;
      return p + 2;
    }
    if (c !== 0x2c) return NOT_FAST;
    p += 2;
  }
}
