/**
 * Frame generators for the conformance tests: realistic values (many symbols, prices 1e-8..1e6,
 * quantities with 0–8 decimals, ids up to and past 2^53) rendered in any key order, with any
 * JSON whitespace, raw or combined (either wrapper order), optionally with JSON escapes and
 * unknown keys. A tiny seeded PRNG keeps every run reproducible.
 */

/** xorshift32: deterministic, allocation-free. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed | 0 || 1;
  }
  u32(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x;
    return x >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** 2–12 char upper-case symbols, deterministic for a seed. */
export function makeSymbols(n: number, seed = 7): string[] {
  const rng = new Rng(seed);
  const quotes = ["USDT", "BTC", "ETH", "FDUSD", "TRY", "EUR"];
  const seen = new Set<string>();
  const out: string[] = [];
  for (let guard = 0; out.length < n && guard < n * 100; guard++) {
    let base = "";
    const len = 2 + rng.int(6);
    for (let k = 0; k < len; k++)
      base += String.fromCharCode(rng.chance(0.1) ? 48 + rng.int(10) : 65 + rng.int(26));
    const s = base + rng.pick(quotes);
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

function digits(rng: Rng, n: number): string {
  let s = "";
  for (let k = 0; k < n; k++) s += String.fromCharCode(48 + rng.int(10));
  return s;
}

/** A decimal string parseDecimal accepts and its exact scaled value's digit text. */
export function decimalText(rng: Rng, maxIntDigits = 7): { text: string; scaled: string } {
  const nInt = rng.int(maxIntDigits + 1);
  const int = nInt === 0 ? "0" : String(1 + rng.int(9)) + digits(rng, nInt - 1);
  const nFrac = rng.int(9);
  const frac = digits(rng, nFrac);
  // Binance pads to 8 decimals ("0.00100000"); sometimes do the same.
  const shown = rng.chance(0.5) ? frac.padEnd(8, "0") : frac;
  const text = shown.length > 0 ? `${int}.${shown}` : int;
  return { text, scaled: `${int}${frac.padEnd(8, "0")}` };
}

export const WS = ["", " ", "\n", "\t", "\r\n  "] as const;

export interface RenderOptions {
  /** Whitespace picker; "" everywhere gives Binance's compact layout. */
  ws: () => string;
  /** Combined wrapper: null = raw; else the stream name and whether "data" comes first. */
  combined: { stream: string; dataFirst: boolean } | null;
  /** JSON-escape a character of string values (and keys) now and then. */
  escape: (s: string) => string;
}

/** Render `[key, valueJsonText]` pairs in the given order. */
export function render(fields: readonly (readonly [string, string])[], o: RenderOptions): string {
  const w = o.ws;
  const body = `{${w()}${fields.map(([k, v]) => `${JSON.stringify(k)}${w()}:${w()}${v}`).join(`${w()},${w()}`)}${w()}}`;
  if (o.combined === null) return `${w()}${body}${w()}`;
  const s = `"stream"${w()}:${w()}${o.escape(JSON.stringify(o.combined.stream))}`;
  const d = `"data"${w()}:${w()}${body}`;
  const inner = o.combined.dataFirst ? `${d}${w()},${w()}${s}` : `${s}${w()},${w()}${d}`;
  return `${w()}{${w()}${inner}${w()}}${w()}`;
}

/** Escape one random character of a JSON string literal's content as \u00XX (still equal). */
export function escapeOne(rng: Rng, literal: string): string {
  if (literal.length < 3 || literal[0] !== '"') return literal;
  const i = 1 + rng.int(literal.length - 2);
  const c = literal.charCodeAt(i);
  if (c === 0x5c || c === 0x22) return literal;
  return `${literal.slice(0, i)}\\u${c.toString(16).padStart(4, "0")}${literal.slice(i + 1)}`;
}
