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
