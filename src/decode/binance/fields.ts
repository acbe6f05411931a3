/**
 * Object keys, symbols and names (event types, stream names) shared by the per-stream decoders.
 */
import { typeError } from "./numbers.ts";
import { cc, hasBackslash, rangeEq, type Src, skipString, unescapeRange, ws } from "./scan.ts";
import { DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Key codes: a one-character key is its char code; these are the multi-character keys we use. */
export const K_OTHER = 0;
export const K_STREAM = 128;
export const K_DATA = 129;
export const K_RESULT = 130;
export const K_CODE = 131;

/** Event kinds, from `e` or from a combined stream name's suffix. */
export const EV_UNKNOWN = 0;
export const EV_TRADE = 1;
export const EV_AGG_TRADE = 2;
export const EV_BOOK_TICKER = 3;
export const EV_SHUTDOWN = 4;
/** A combined stream name we do not ingest (`@depth`, `@kline_1m`, ...). */
export const EV_OTHER_STREAM = 5;

/**
 * Positions stay below 2^17 (MAX_FRAME_LENGTH is 2^16), so readKey returns key code and value
 * position packed in one non-negative int: no result object, no module state.
 */
const POS_BITS = 17;
const POS_MASK = (1 << POS_BITS) - 1;
export const keyOf = (packed: number): number => packed >>> POS_BITS;
export const posOf = (packed: number): number => packed & POS_MASK;

function classifyKey(f: Src, a: number, b: number): number {
  if (rangeEq(f, a, b, "stream")) return K_STREAM;
  if (rangeEq(f, a, b, "data")) return K_DATA;
  if (rangeEq(f, a, b, "result")) return K_RESULT;
  if (rangeEq(f, a, b, "code")) return K_CODE;
  if (!hasBackslash(f, a, b)) return K_OTHER;
  const s = unescapeRange(f, a, b); // "\u0065" is the key "e": JSON allows it, Binance never sends it
  if (s.length === 1 && s.charCodeAt(0) < 128) return s.charCodeAt(0);
  return classifyKey(s, 0, s.length);
}

/**
 * At `pos` (a '"' expected) read `"key"`, whitespace, ':', whitespace. Returns the key code and
 * the value's position packed (keyOf/posOf), or a negative status.
 */
export function readKey(f: Src, pos: number, end: number): number {
  if (pos >= end) return -S.TRUNCATED;
  if (cc(f, pos) !== 0x22) return -S.MALFORMED;
  let key: number;
  let p: number;
  const c1 = pos + 2 < end ? cc(f, pos + 1) : -1;
  if (c1 > 0x20 && c1 < 0x7f && c1 !== 0x5c && c1 !== 0x22 && cc(f, pos + 2) === 0x22) {
    key = c1; // one-character key: the fast case for every Binance event field
    p = pos + 3;
  } else {
    p = skipString(f, pos + 1, end);
    if (p < 0) return p;
    key = classifyKey(f, pos + 1, p - 1);
  }
  p = ws(f, p, end);
  if (p >= end) return -S.TRUNCATED;
  if (cc(f, p) !== 0x3a) return -S.MALFORMED;
  p = ws(f, p + 1, end);
  if (p >= end) return -S.TRUNCATED;
  return (key << POS_BITS) | p;
}

/** nextKey's "object closed" marker: OBJ_END - (position of '}'), below every -status. */
export const OBJ_END = -1_000_000;
/** After a value: ',' → the next key's position; '}' → OBJ_END - its position; else -status. */
export function nextKey(f: Src, pos: number, end: number): number {
  pos = ws(f, pos, end);
  if (pos >= end) return -S.TRUNCATED;
  const c = cc(f, pos);
  if (c === 0x2c) return ws(f, pos + 1, end);
  if (c === 0x7d) return OBJ_END - pos;
  return -S.MALFORMED;
}

/** `s` into `dst[slot]`: NOT_CONFIGURED when the symbol is not in `symbols`. */
export function readSymbol(
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  dst: Uint16Array,
  slot: number,
): number {
  if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
  const id = symbols.find(f, pos + 1, end);
  const stop = symbols.stop;
  if (id >= 0) {
    dst[slot] = id;
    return stop + 1;
  }
  const r = skipString(f, pos + 1, end);
  if (r < 0) return r;
  if (stop === r - 1 || !hasBackslash(f, pos + 1, r - 1)) return -S.NOT_CONFIGURED;
  const esc = symbols.findText(unescapeRange(f, pos + 1, r - 1)); // slow path: escaped symbol
  if (esc < 0) return -S.NOT_CONFIGURED;
  dst[slot] = esc;
  return r;
}

function eventOf(f: Src, a: number, b: number): number {
  if (rangeEq(f, a, b, "trade")) return EV_TRADE;
  if (rangeEq(f, a, b, "aggTrade")) return EV_AGG_TRADE;
  if (rangeEq(f, a, b, "bookTicker")) return EV_BOOK_TICKER;
  if (rangeEq(f, a, b, "serverShutdown")) return EV_SHUTDOWN;
  return EV_UNKNOWN;
}

export function streamOf(f: Src, a: number, b: number): number {
  if (rangeEq(f, a, b, "!serverShutdown")) return EV_SHUTDOWN;
  if (b - a > 6 && rangeEq(f, b - 6, b, "@trade")) return EV_TRADE;
  if (b - a > 9 && rangeEq(f, b - 9, b, "@aggTrade")) return EV_AGG_TRADE;
  if (b - a > 11 && rangeEq(f, b - 11, b, "@bookTicker")) return EV_BOOK_TICKER;
  return EV_OTHER_STREAM;
}

/**
 * A string naming an event (`e`) or a combined stream (`stream`) at `pos`: returns the EV_*
 * code, shifted like readKey (code << 17 | position after the string), or a negative status.
 */
export function readName(f: Src, pos: number, end: number, isStream: boolean): number {
  if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
  const r = skipString(f, pos + 1, end);
  if (r < 0) return r;
  let ev: number;
  if (hasBackslash(f, pos + 1, r - 1)) {
    const s = unescapeRange(f, pos + 1, r - 1); // slow path: JSON escapes in a name
    ev = isStream ? streamOf(s, 0, s.length) : eventOf(s, 0, s.length);
  } else ev = isStream ? streamOf(f, pos + 1, r - 1) : eventOf(f, pos + 1, r - 1);
  return (ev << POS_BITS) | r;
}
