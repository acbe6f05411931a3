/**
 * JSON scanning over a frame held either as a JS string (WebSocket text frames, scanned with
 * charCodeAt, never encoded) or as UTF-8 bytes (files, the WAL, binary frames). Every function
 * takes (frame, pos, end) and returns the position after what it consumed, or a negative
 * DecodeStatus (-TRUNCATED when input ran out, -MALFORMED for a syntax error). Nothing allocates
 * except `unescapeRange`, which only runs for strings that contain backslash escapes.
 *
 * One generic copy instead of a string copy and a bytes copy: this is the generic path, which
 * only runs for frames the exact-layout fast paths decline (fast.ts, fast-bytes.ts); those are
 * specialised per form because there the per-character typeof test did matter.
 */
import { MAX_DEPTH, DecodeStatus as S } from "./status.ts";

export type Src = string | Uint8Array;

/** Code unit (string) or byte at `i`; callers keep `i < end`. */
export function cc(f: Src, i: number): number {
  return typeof f === "string" ? f.charCodeAt(i) : f[i]!;
}

/** Is [a, b) exactly the ASCII text `lit`? */
export function rangeEq(f: Src, a: number, b: number, lit: string): boolean {
  if (b - a !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) if (cc(f, a + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/** Skip JSON whitespace (space, tab, LF, CR). */
export function ws(f: Src, pos: number, end: number): number {
  while (pos < end) {
    const c = cc(f, pos);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    pos++;
  }
  return pos;
}

function hex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** End of one UTF-8 sequence starting with lead byte at `i` (≥ 0x80), or -BAD_UTF8. */
export function utf8Seq(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f; // no UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f; // ≤ U+10FFFF
  } else return -S.BAD_UTF8;
  if (i + n >= end) return -S.BAD_UTF8;
  const c1 = b[i + 1]!;
  if (c1 < lo || c1 > hi) return -S.BAD_UTF8;
  for (let k = 2; k <= n; k++) {
    const ck = b[i + k]!;
    if (ck < 0x80 || ck > 0xbf) return -S.BAD_UTF8;
  }
  return i + n + 1;
}

/** Whole-buffer UTF-8 check (error paths only: see dispatch.ts refine). */
export function utf8Valid(b: Uint8Array): boolean {
  const end = b.length;
  let i = 0;
  while (i < end) {
    if (b[i]! < 0x80) i++;
    else {
      i = utf8Seq(b, i, end);
      if (i < 0) return false;
    }
  }
  return true;
}

/** `pos` is just after the opening quote; returns the position after the closing quote. */
export function skipString(f: Src, pos: number, end: number): number {
  while (pos < end) {
    const c = cc(f, pos);
    if (c === 0x22) return pos + 1;
    if (c < 0x20) return -S.MALFORMED;
    if (c === 0x5c) {
      if (pos + 1 >= end) return -S.TRUNCATED;
      const e = cc(f, pos + 1);
      if (e === 0x75) {
        if (pos + 6 > end) return -S.TRUNCATED;
        for (let k = 2; k < 6; k++) if (!hex(cc(f, pos + k))) return -S.MALFORMED;
        pos += 6;
      } else if (
        e === 0x22 ||
        e === 0x5c ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      )
        pos += 2;
      else return -S.MALFORMED;
    } else if (c >= 0x80 && typeof f !== "string") {
      pos = utf8Seq(f, pos, end);
      if (pos < 0) return pos;
    } else pos++;
  }
  return -S.TRUNCATED;
}

function digits(f: Src, pos: number, end: number): number {
  while (pos < end) {
    const c = cc(f, pos);
    if (c < 48 || c > 57) break;
    pos++;
  }
  return pos;
}

/** The fraction/exponent tail of a JSON number starting at `pos` ('.', 'e' or 'E' or nothing). */
export function skipNumberTail(f: Src, pos: number, end: number): number {
  if (pos < end && cc(f, pos) === 0x2e) {
    pos++;
    if (pos >= end) return -S.TRUNCATED;
    const q = digits(f, pos, end);
    if (q === pos) return -S.MALFORMED;
    pos = q;
  }
  if (pos < end && (cc(f, pos) | 0x20) === 0x65) {
    pos++;
    if (pos < end && (cc(f, pos) === 0x2b || cc(f, pos) === 0x2d)) pos++;
    if (pos >= end) return -S.TRUNCATED;
    const q = digits(f, pos, end);
    if (q === pos) return -S.MALFORMED;
    pos = q;
  }
  return pos;
}

function skipNumber(f: Src, pos: number, end: number): number {
  if (cc(f, pos) === 0x2d) pos++;
  if (pos >= end) return -S.TRUNCATED;
  const c = cc(f, pos);
  if (c === 48) pos++;
  else if (c >= 49 && c <= 57) pos = digits(f, pos + 1, end);
  else return -S.MALFORMED;
  return skipNumberTail(f, pos, end);
}

function skipWord(f: Src, pos: number, end: number, word: string): number {
  for (let k = 0; k < word.length; k++, pos++) {
    if (pos >= end) return -S.TRUNCATED;
    if (cc(f, pos) !== word.charCodeAt(k)) return -S.MALFORMED;
  }
  return pos;
}

/** Skip (and fully validate) any JSON value at `pos`, which must not be whitespace. */
export function skipValue(f: Src, pos: number, end: number, depth: number): number {
  if (pos >= end) return -S.TRUNCATED;
  const c = cc(f, pos);
  if (c === 0x22) return skipString(f, pos + 1, end);
  if (c === 0x2d || (c >= 48 && c <= 57)) return skipNumber(f, pos, end);
  if (c === 0x74) return skipWord(f, pos, end, "true");
  if (c === 0x66) return skipWord(f, pos, end, "false");
  if (c === 0x6e) return skipWord(f, pos, end, "null");
  if (c !== 0x7b && c !== 0x5b) return -S.MALFORMED;
  if (depth >= MAX_DEPTH) return -S.MALFORMED;
  const close = c + 2; // '{' → '}', '[' → ']'
  pos = ws(f, pos + 1, end);
  if (pos >= end) return -S.TRUNCATED;
  if (cc(f, pos) === close) return pos + 1;
  for (;;) {
    if (c === 0x7b) {
      if (cc(f, pos) !== 0x22) return -S.MALFORMED;
      pos = skipString(f, pos + 1, end);
      if (pos < 0) return pos;
      pos = ws(f, pos, end);
      if (pos >= end) return -S.TRUNCATED;
      if (cc(f, pos) !== 0x3a) return -S.MALFORMED;
      pos = ws(f, pos + 1, end);
    }
    pos = skipValue(f, pos, end, depth + 1);
    if (pos < 0) return pos;
    pos = ws(f, pos, end);
    if (pos >= end) return -S.TRUNCATED;
    const d = cc(f, pos);
    if (d === close) return pos + 1;
    if (d !== 0x2c) return -S.MALFORMED;
    pos = ws(f, pos + 1, end);
    if (pos >= end) return -S.TRUNCATED;
  }
}

/** JSON syntax status of the whole frame: OK (0) or TRUNCATED / MALFORMED (BAD_UTF8 for bytes). */
export function validateFrame(f: Src): number {
  const end = f.length;
  let pos = ws(f, 0, end);
  pos = skipValue(f, pos, end, 0);
  if (pos < 0) return -pos;
  return ws(f, pos, end) === end ? S.OK : S.MALFORMED;
}

/** Does [a, b) contain a backslash? (Decides whether the allocating slow path is needed.) */
export function hasBackslash(f: Src, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (cc(f, i) === 0x5c) return true;
  return false;
}

const ESC: Record<number, string> = {
  34: '"',
  92: "\\",
  47: "/",
  98: "\b",
  102: "\f",
  110: "\n",
  114: "\r",
  116: "\t",
};

/**
 * The text of an already validated string body [a, b) with escapes resolved. Slow path only (it
 * allocates): Binance never escapes the fields we read, but JSON allows `"\u0042TCUSDT"`.
 * Bytes are mapped one code per byte: non-ASCII never matches a field we read, which is all
 * that matters here.
 */
export function unescapeRange(f: Src, a: number, b: number): string {
  let s = "";
  for (let i = a; i < b; i++) {
    const c = cc(f, i);
    if (c !== 0x5c) {
      s += String.fromCharCode(c);
      continue;
    }
    const e = cc(f, i + 1);
    if (e === 0x75) {
      let v = 0;
      for (let k = 2; k < 6; k++) v = v * 16 + Number.parseInt(String.fromCharCode(cc(f, i + k)), 16);
      s += String.fromCharCode(v);
      i += 5;
    } else {
      s += ESC[e] ?? "";
      i += 1;
    }
  }
  return s;
}
