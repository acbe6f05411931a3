/**
 * Exact decimals: prices and quantities are int64 scaled by 10^8 (DECIMAL(18,8)).
 * On the hot path they are written as two uint32 words (lo, hi) into a BigInt64Array's buffer,
 * so no BigInt is ever allocated per frame. Off the hot path, BigInt helpers convert to text.
 */
export const DECIMAL_SCALE = 8;
export const DECIMAL_PRECISION = 18;
export const DECIMAL_FACTOR = 100_000_000n;
/** DECIMAL(18,8) holds at most 18 digits: 10 before the point, 8 after. */
export const DECIMAL_MAX_INTEGER_DIGITS = DECIMAL_PRECISION - DECIMAL_SCALE;

/** Exact text of a scaled int64 with all 8 fraction digits: 1650001000000n → "16500.01000000". */
export function formatDecimal(scaled: bigint): string {
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  const int = abs / DECIMAL_FACTOR;
  const frac = (abs % DECIMAL_FACTOR).toString().padStart(DECIMAL_SCALE, "0");
  return `${neg ? "-" : ""}${int}.${frac}`;
}

/**
 * Reference (slow, allocating) parser used by oracles, config and the REST path:
 * "16500.01000000" → 1650001000000n. Returns null for anything that is not a plain non-negative
 * decimal with at most 10 integer and 8 fraction digits.
 */
export function parseDecimal(text: string): bigint | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const intPart = (m[1] ?? "").replace(/^0+(?=\d)/, "");
  const fracRaw = m[2] ?? "";
  const fracTrim = fracRaw.replace(/0+$/, "");
  if (fracTrim.length > DECIMAL_SCALE) return null;
  if (intPart.length > DECIMAL_MAX_INTEGER_DIGITS) return null;
  return BigInt(intPart) * DECIMAL_FACTOR + BigInt(fracTrim.padEnd(DECIMAL_SCALE, "0"));
}

const TWO32 = 4_294_967_296;
/** int·1e8 + frac is exact in a double while int < 2^53 / 1e8. */
const FAST_INT_LIMIT = 90_071_992;

/**
 * Write int·1e8 + frac8 (int < 1e10, frac8 < 1e8: a DECIMAL(18,8) already split by a parser)
 * into words 2·slot (low) and 2·slot+1 (high) of a BigInt64Array's Uint32Array view, without
 * allocating a BigInt. Used by the archive CSV reader (src/archive/csv.ts). The frame decoders
 * keep an inline copy (src/decode/binance/numbers.ts): calling this from there measured 8 B per
 * bookTicker frame where the inline form allocates nothing.
 */
export function writeScaledWords(w: Uint32Array, slot: number, int: number, frac8: number): void {
  const lo = 2 * slot;
  if (int < FAST_INT_LIMIT) {
    const v = int * 1e8 + frac8;
    const hi = Math.floor(v / TWO32);
    w[lo] = v - hi * TWO32;
    w[lo + 1] = hi;
    return;
  }
  // int < 1e10 < 2^34: int·1e8 = (ih·2^16 + il)·1e8 with every partial product below 2^53.
  const ih = Math.floor(int / 65536);
  const il = int - ih * 65536;
  const a = ih * 1e8; // times 2^16 = aHi·2^32 + aLo·2^16
  const aHi = Math.floor(a / 65536);
  const low = il * 1e8 + frac8 + (a - aHi * 65536) * 65536;
  const carry = Math.floor(low / TWO32);
  w[lo] = low - carry * TWO32;
  w[lo + 1] = aHi + carry;
}
