/**
 * Names inside depth frames: object keys, the `e` event name and combined stream names
 * (`btcusdt@depth@100ms`, `btcusdt@depth20`, ...), read without allocating except when JSON
 * escapes are present (which Binance never sends).
 */

import { DEPTH_DIFF, DEPTH_PARTIAL } from "./depth-frame.ts";
import { typeError } from "./numbers.ts";
import { cc, hasBackslash, rangeEq, type Src, skipString, unescapeRange } from "./scan.ts";
import { DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Key codes: a one-character key is its char code; these are the longer keys depth frames use. */
export const K_OTHER = 0;
export const K_STREAM = 128;
export const K_DATA = 129;
export const K_LAST_UPDATE_ID = 130;
export const K_BIDS = 131;
export const K_ASKS = 132;

/** Binance spot symbols are at most 20 characters (model SYMBOL_RE). */
const MAX_SYMBOL_LENGTH = 20;

/** The key code of the key text [a, b). */
export function classifyKey(f: Src, a: number, b: number): number {
  if (b - a === 1) {
    const c = cc(f, a);
    return c < 128 ? c : K_OTHER;
  }
  if (rangeEq(f, a, b, "stream")) return K_STREAM;
  if (rangeEq(f, a, b, "data")) return K_DATA;
  if (rangeEq(f, a, b, "lastUpdateId")) return K_LAST_UPDATE_ID;
  if (rangeEq(f, a, b, "bids")) return K_BIDS;
  if (rangeEq(f, a, b, "asks")) return K_ASKS;
  if (!hasBackslash(f, a, b)) return K_OTHER;
  const s = unescapeRange(f, a, b); // slow path: a key written with JSON escapes
  return classifyKey(s, 0, s.length);
}

/** Is the JSON string at `pos` exactly `lit` (escapes allowed)? Position after it, or -`otherwise`. */
export function nameIs(f: Src, pos: number, end: number, lit: string, otherwise: number): number {
  if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
  const r = skipString(f, pos + 1, end);
  if (r < 0) return r;
  if (rangeEq(f, pos + 1, r - 1, lit)) return r;
  if (!hasBackslash(f, pos + 1, r - 1)) return -otherwise;
  const s = unescapeRange(f, pos + 1, r - 1);
  return s === lit ? r : -otherwise;
}

/** A combined stream's kind and symbol, read from its name. */
export class DepthStreamName {
  /** DEPTH_DIFF or DEPTH_PARTIAL after a successful read. */
  kind = 0;
  symbolId = -1;
  /** The name's symbol upper-cased, then '"', for SymbolLookup.find. */
  readonly #sym = new Uint8Array(MAX_SYMBOL_LENGTH + 1);

  /** The stream name at `pos` (a '"'): position after it, or -status (NOT_CONFIGURED unless a depth stream of a known symbol). */
  read(f: Src, pos: number, end: number, symbols: SymbolLookup): number {
    if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
    const r = skipString(f, pos + 1, end);
    if (r < 0) return r;
    let src: Src = f;
    let a = pos + 1;
    let b = r - 1;
    if (hasBackslash(f, a, b)) {
      src = unescapeRange(f, a, b); // slow path: JSON escapes in a stream name
      a = 0;
      b = src.length;
    }
    let at = a;
    while (at < b && cc(src, at) !== 0x40) at++;
    const n = at - a;
    if (n === 0 || n > MAX_SYMBOL_LENGTH || !rangeEq(src, at, Math.min(b, at + 6), "@depth"))
      return -S.NOT_CONFIGURED;
    // After "@depth": nothing (diff) or 5 / 10 / 20 (partial), then nothing, "@100ms" or "@1000ms".
    let i = at + 6;
    let kind = DEPTH_DIFF;
    if (i < b && cc(src, i) !== 0x40) {
      kind = DEPTH_PARTIAL;
      if (rangeEq(src, i, Math.min(b, i + 1), "5")) i += 1;
      else if (rangeEq(src, i, Math.min(b, i + 2), "10") || rangeEq(src, i, Math.min(b, i + 2), "20")) i += 2;
      else return -S.NOT_CONFIGURED;
    }
    if (i !== b && !rangeEq(src, i, b, "@100ms") && !rangeEq(src, i, b, "@1000ms")) return -S.NOT_CONFIGURED;
    const sym = this.#sym;
    for (let k = 0; k < n; k++) {
      let c = cc(src, a + k);
      if (c >= 0x61 && c <= 0x7a) c -= 0x20; // stream names use lower-case symbols
      sym[k] = c;
    }
    sym[n] = 0x22;
    const id = symbols.find(sym, 0, n + 1);
    if (id < 0) return -S.NOT_CONFIGURED;
    this.kind = kind;
    this.symbolId = id;
    return r;
  }
}
