/**
 * Field value scanners: integers (ids, times), exact decimals, booleans. Each starts at the first
 * character of the value and writes straight into the caller's column at `slot` (no scratch, no
 * result object), returning the position after the value or a negative DecodeStatus. A value of
 * the wrong JSON type is validated as JSON first, so syntax errors outrank BAD_TYPE.
 */
import { FLAG_BUYER_MAKER } from "../../model/index.ts";
import { cc, hasBackslash, type Src, skipNumberTail, skipString, skipValue, unescapeRange } from "./scan.ts";
import { DecodeStatus as S } from "./status.ts";

/** 2^53: ids and µs times must stay below it to be exact in a Float64Array. */
export const MAX_EXACT = 9_007_199_254_740_992;
const TWO32 = 4_294_967_296;
/** scaled = int·1e8 + frac is exact in a double while int < 2^53 / 1e8. */
const FAST_INT_LIMIT = 90_071_992;
/** 10^(8 - n): pads a fraction of n digits to 8. */
const PAD = [1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/** The value at `pos` is valid JSON of another type: BAD_TYPE, or its syntax error. */
export function typeError(f: Src, pos: number, end: number): number {
  const r = skipValue(f, pos, end, 0);
  return r < 0 ? r : -S.BAD_TYPE;
}

/** Non-negative JSON integer into `dst[slot]·mult`; `over` is the status for sign or range. */
function scanInt(
  f: Src,
  pos: number,
  end: number,
  dst: Float64Array,
  slot: number,
  mult: number,
  over: number,
): number {
  let i = pos;
  let c = cc(f, i);
  let neg = false;
  if (c === 0x2d) {
    neg = true;
    if (++i >= end) return -S.TRUNCATED;
    c = cc(f, i);
  }
  let v = 0;
  if (c === 48) {
    i++;
    c = i < end ? cc(f, i) : -1;
    if (c >= 48 && c <= 57) return -S.MALFORMED; // leading zero
  } else if (c >= 49 && c <= 57) {
    v = c - 48;
    // Above 2^53 the sum rounds, but monotonically: the ≥ MAX_EXACT test below stays right.
    for (i++; i < end; i++) {
      c = cc(f, i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
  } else return neg ? -S.MALFORMED : typeError(f, pos, end);
  c = i < end ? cc(f, i) : -1;
  if (c === 0x2e || (c | 0x20) === 0x65) {
    const r = skipNumberTail(f, i, end);
    return r < 0 ? r : -S.BAD_NUMBER;
  }
  if (neg) return -over;
  v *= mult;
  if (v >= MAX_EXACT) return -over;
  dst[slot] = v;
  return i;
}

/** An id (`t`, `a`, `f`, `l`, `u`): negative or ≥ 2^53 is ID_OUT_OF_RANGE. */
export function scanId(f: Src, pos: number, end: number, dst: Float64Array, slot: number): number {
  return scanInt(f, pos, end, dst, slot, 1, S.ID_OUT_OF_RANGE);
}

/** A time (`E`, `T`) in ms (mult 1000) or µs (mult 1), stored as µs; bad sign/range is BAD_NUMBER. */
export function scanTime(
  f: Src,
  pos: number,
  end: number,
  dst: Float64Array,
  slot: number,
  mult: number,
): number {
  return scanInt(f, pos, end, dst, slot, mult, S.BAD_NUMBER);
}

/** `m` (buyer is maker): true → FLAG_BUYER_MAKER (aggressor SELL), false → 0, into `dst[slot]`. */
export function readBuyerMaker(f: Src, pos: number, end: number, dst: Uint8Array, slot: number): number {
  const c = cc(f, pos);
  if (
    c === 0x74 &&
    pos + 4 <= end &&
    cc(f, pos + 1) === 0x72 &&
    cc(f, pos + 2) === 0x75 &&
    cc(f, pos + 3) === 0x65
  ) {
    dst[slot] = FLAG_BUYER_MAKER;
    return pos + 4;
  }
  if (
    c === 0x66 &&
    pos + 5 <= end &&
    cc(f, pos + 1) === 0x61 &&
    cc(f, pos + 2) === 0x6c &&
    cc(f, pos + 3) === 0x73 &&
    cc(f, pos + 4) === 0x65
  ) {
    dst[slot] = 0;
    return pos + 5;
  }
  return typeError(f, pos, end);
}

/**
 * A quoted decimal ("16500.01000000") at `pos` into words 2·slot (low) and 2·slot+1 (high) of
 * `w`, as int64 scaled by 1e8, exactly as model/decimal.ts parseDecimal: digits, optional '.'
 * and digits, leading integer zeros and trailing fraction zeros free, ≤ 10 integer and ≤ 8
 * significant fraction digits. One pass, digits accumulated as doubles (exact below 2^53).
 */
export function scanDecimal(f: Src, pos: number, end: number, w: Uint32Array, slot: number): number {
  if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
  let i = pos + 1;
  let c = -1;
  let int = 0;
  let nInt = 0;
  let any = false;
  for (; i < end; i++) {
    c = cc(f, i);
    if (c < 48 || c > 57) break;
    any = true;
    if (int !== 0 || c !== 48) {
      int = int * 10 + (c - 48);
      nInt++;
    }
  }
  if (!any || nInt > 10) return decimalSlow(f, pos, end, w, slot);
  let frac = 0;
  let nFrac = 0;
  if (c === 0x2e) {
    const start = ++i;
    for (; i < end; i++) {
      c = cc(f, i);
      if (c < 48 || c > 57) break;
      if (nFrac < 8) {
        frac = frac * 10 + (c - 48);
        nFrac++;
      } else if (c !== 48) return decimalSlow(f, pos, end, w, slot); // a 9th significant fraction digit
    }
    if (i === start) return decimalSlow(f, pos, end, w, slot);
  }
  if (i >= end) return -S.TRUNCATED;
  if (c !== 0x22) return decimalSlow(f, pos, end, w, slot);
  frac *= PAD[nFrac]!;
  // model/decimal.ts writeScaledWords does the same; inline here, where a call cost 8 B a frame.
  const lo = 2 * slot;
  if (int < FAST_INT_LIMIT) {
    const v = int * 1e8 + frac;
    const hi = Math.floor(v / TWO32);
    w[lo] = v - hi * TWO32;
    w[lo + 1] = hi;
  } else {
    // int < 1e10 < 2^34: int·1e8 = (ih·2^16 + il)·1e8 with every partial product below 2^53.
    const ih = Math.floor(int / 65536);
    const il = int - ih * 65536;
    const a = ih * 1e8; // times 2^16 = aHi·2^32 + aLo·2^16
    const aHi = Math.floor(a / 65536);
    const low = il * 1e8 + frac + (a - aHi * 65536) * 65536;
    const carry = Math.floor(low / TWO32);
    w[lo] = low - carry * TWO32;
    w[lo + 1] = aHi + carry;
  }
  return i + 1;
}

/**
 * The fast scan stopped: the string is invalid JSON (its syntax status), not a DECIMAL(18,8)
 * (BAD_DECIMAL), or written with escapes ("1\u002e5"), which JSON allows and Binance never sends:
 * resolve them (allocating) and scan again.
 */
function decimalSlow(f: Src, pos: number, end: number, w: Uint32Array, slot: number): number {
  const r = skipString(f, pos + 1, end);
  if (r < 0) return r;
  if (!hasBackslash(f, pos + 1, r - 1)) return -S.BAD_DECIMAL;
  const text = unescapeRange(f, pos + 1, r - 1);
  if (text.includes('"') || text.includes("\\")) return -S.BAD_DECIMAL;
  const q = `"${text}"`;
  const s = scanDecimal(q, 0, q.length, w, slot);
  return s < 0 ? s : r;
}
