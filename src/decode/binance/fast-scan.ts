/**
 * Constants, the scratch buffer and the rare-case helper shared by the exact-layout fast paths
 * (fast.ts and the generated fast-trade.ts, fast-agg-trade.ts, fast-book-ticker.ts).
 *
 * Why those files look the way they do (measured with native-bench "decode trade (combined)" and
 * micro-benches on this machine's Bun): `charCodeAt` costs a bounds check and an 8-bit/16-bit
 * test per character (~0.5 ns; a 17-character literal ~9 ns), while one `DataView.getInt32` on a
 * module-level buffer compares four characters (the same literal ~1 ns). So a frame is first
 * copied into SCRATCH with one native call (`Buffer#write`, ~15 ns for a trade frame) and every
 * fast path reads the copy: literals eight bytes per float64 read or four per int32 read,
 * digits four per read (SWAR: straight-line code for 8–16-digit integers and 8-digit
 * fractions; the digit-per-read loop it replaced cost ~1 ns a digit, over half of a trade
 * frame's time), symbols by the first probe of SymbolLookup.view inline. JSC does not inline a
 * function of more than ~100 bytecodes, so each layout is one generated function with every
 * field inline, integers and decimals accumulated in int32 limbs. Profiled with `perf record`
 * and JSC's JITDump (BUN_JSC_useJITDump=1): what remains is spread over the ~45 bounds-checked
 * reads and the column stores, each a handful of instructions.
 * Any deviation from Binance's exact layout returns -1 ("not fast"): the generic path then
 * decodes the frame and reports the status, so results stay exactly the generic path's
 * (fast.test.ts checks they agree).
 *
 * Stricter than the generic path (these take the generic path): frames longer than
 * FAST_MAX_LENGTH or not ASCII, ids/times with a leading zero (including a lone 0) or more than
 * 16 digits, decimals with more than 9 integer digits (counting leading zeros), symbols not in
 * the lookup, stream names that are not [a-z0-9]+.
 *
 * Bounds: a fast path only runs on frames whose last byte is '}', and no scan crosses a '}' (not
 * a digit, not a symbol character, and every literal compared before the closing braces is
 * '}'-free and compared left to right). A four- or eight-byte read may look past the end into
 * stale scratch bytes, but a compare that spans the end includes the '}' and fails, a digit
 * word uses only the bytes before its first non-digit, and SCRATCH has room for every read.
 */
/**
 * The scratch copy of the frame every fast path reads (fast.ts copies a string frame in with one
 * native `Buffer#write`, fast-bytes.ts a bytes frame with `set` or `Buffer#copy`): frames of at most
 * FAST_MAX_LENGTH characters; the rest take the generic path. Decoding is synchronous, so one
 * module-level buffer is enough; its size bounds every read (see "Bounds").
 */
export const FAST_MAX_LENGTH = 2_048;
/** UTF-8 needs at most 3 bytes per UTF-16 unit, so a string frame never overruns (fast.ts). */
export const SCRATCH = Buffer.alloc(3 * FAST_MAX_LENGTH + 64);
export const B = new Uint8Array(SCRATCH.buffer, SCRATCH.byteOffset, SCRATCH.byteLength);
export const V = new DataView(SCRATCH.buffer, SCRATCH.byteOffset, SCRATCH.byteLength);

/** Little-endian int32 of four ASCII characters, as `V.getInt32(p, true)` reads them. */
export function word(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
}

/** 2^53: ids and µs times must stay below it to be exact in a Float64Array. */
export const MAX_EXACT = 9_007_199_254_740_992;
export const TWO32 = 4_294_967_296;
export const INV_TWO32 = 1 / TWO32;
/** int·1e8 + frac is exact in a double while int < 2^53 / 1e8. */
export const FAST_INT_LIMIT = 90_071_992;
/** 10^(8 - n): pads a fraction of n < 8 digits to 8. */
export const PAD = new Int32Array([100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10]);
/** 10^k for k ≤ 8: the scale of an integer's low limb. */
export const POW10 = new Int32Array([1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]);

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
