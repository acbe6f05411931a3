/**
 * Constants and the rare-case helper shared by the exact-layout fast paths (fast-trade.ts,
 * fast-agg-trade.ts, fast-book-ticker.ts and their -bytes twins).
 *
 * Why those files look the way they do (measured with native-bench "decode trade (combined)" and
 * a micro-bench): JSC does not inline a function of more than ~100 bytecodes, so per-field
 * scanner functions (scanInt / scanDecimal) were real calls costing ~15 ns each; the shared
 * `string | Uint8Array` accessor added a type test per character; `startsWith` is a native call
 * (~10 ns) per literal; float64 `v * 10 + d` chains are slower than int32 `(v * 10 + d) | 0`.
 * So each fast path is one function: literal parts compared character by character at known
 * offsets, integers and decimals accumulated inline in int32 limbs, one monomorphic read per
 * character. Any deviation from Binance's exact layout returns -1 ("not fast"): the generic
 * path then decodes the frame and reports the status, so results stay exactly the generic
 * path's (fast.test.ts checks they agree).
 *
 * Stricter than the generic path (these take the generic path): ids/times with a leading zero
 * (including a lone 0) or more than 16 digits, decimals with more than 9 integer digits
 * (counting leading zeros), symbols not in the lookup, stream names that are not [a-z0-9]+.
 *
 * Bounds: fast.ts only runs a fast path on frames whose last character is '}', and no scan
 * crosses a '}' (not a digit, not a symbol character, and every literal compared before the
 * closing braces is '}'-free and compared left to right), so no read goes past the end.
 */

/** 2^53: ids and µs times must stay below it to be exact in a Float64Array. */
export const MAX_EXACT = 9_007_199_254_740_992;
export const TWO32 = 4_294_967_296;
export const INV_TWO32 = 1 / TWO32;
/** int·1e8 + frac is exact in a double while int < 2^53 / 1e8. */
export const FAST_INT_LIMIT = 90_071_992;
/** 10^(8 - n): pads a fraction of n < 8 digits to 8. */
export const PAD = new Int32Array([100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10]);
/** 10^k for k ≤ 7: the scale of an integer's low limb. */
export const POW10 = new Int32Array([1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]);

/**
 * int·1e8 + frac for FAST_INT_LIMIT ≤ int < 1e9 (int < 2^30) into words 2·slot, 2·slot+1 of `w`:
 * int·1e8 = (ih·2^16 + il)·1e8 with every partial product below 2^53.
 */
export function storeLarge(w: Uint32Array, slot: number, int: number, frac: number): void {
  const ih = int >>> 16;
  const il = int & 0xffff;
  const a = ih * 1e8; // times 2^16 = aHi·2^32 + aLo·2^16
  const aHi = Math.floor(a / 65536);
  const low = il * 1e8 + frac + (a - aHi * 65536) * 65536;
  const carry = Math.floor(low / TWO32);
  w[2 * slot] = low - carry * TWO32;
  w[2 * slot + 1] = aHi + carry;
}
