/**
 * `<symbol>@kline_1m` frames → one row of the kline layout (model/kline.ts), raw or combined:
 * `{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC",
 *   "i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,
 *   "x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`
 * https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#klinecandlestick-streams
 *
 * Issue 17's live reconciliation reads the closed minutes (`x` true): first/last trade id, count,
 * OHLC and volumes. A minute without trades carries `f` = `L` = -1 (NO_TRADE_ID), the only
 * negative id accepted. Same contract as the trade decoders: caller-owned columns, a status
 * number, no throw, no allocation except for JSON escapes; any key order and whitespace. Intervals
 * other than 1m are NOT_CONFIGURED; so is a combined stream that is not `@kline_1m`.
 */
import { type KlineColumns, NO_TRADE_ID } from "../../model/index.ts";
import { K_DATA, K_STREAM, keyOf, nextKey, OBJ_END, posOf, readKey, readSymbol } from "./fields.ts";
import { scanDecimal, scanId, scanTime, typeError } from "./numbers.ts";
import {
  cc,
  hasBackslash,
  rangeEq,
  type Src,
  skipString,
  skipValue,
  unescapeRange,
  utf8Valid,
  validateFrame,
  ws,
} from "./scan.ts";
import { MAX_FRAME_LENGTH, DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Is the JSON string at `pos` (a '"') exactly `lit`, allowing escapes? Position after it, or -status. */
function stringIs(f: Src, pos: number, end: number, lit: string, suffix: boolean): number {
  if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
  const r = skipString(f, pos + 1, end);
  if (r < 0) return r;
  let a = pos + 1;
  let b = r - 1;
  let src: Src = f;
  if (hasBackslash(f, a, b)) {
    src = unescapeRange(f, a, b); // slow path: JSON escapes, which Binance never sends
    a = 0;
    b = src.length;
  }
  const ok = suffix ? b - a > lit.length && rangeEq(src, b - lit.length, b, lit) : rangeEq(src, a, b, lit);
  return ok ? r : -S.NOT_CONFIGURED;
}

/** `f`/`L`: an id, or exactly -1 (no trade in the minute). */
function scanTradeId(f: Src, pos: number, end: number, dst: Float64Array, slot: number): number {
  if (cc(f, pos) === 0x2d && pos + 1 < end && cc(f, pos + 1) === 0x31) {
    const c = pos + 2 < end ? cc(f, pos + 2) : -1;
    if (c < 0x30 || c > 0x39) {
      if (c === 0x2e || (c | 0x20) === 0x65) return -S.BAD_NUMBER;
      dst[slot] = NO_TRADE_ID;
      return pos + 2;
    }
  }
  return scanId(f, pos, end, dst, slot);
}

/** `x`: true → 1, false → 0. */
function readClosed(f: Src, pos: number, end: number, dst: Uint8Array, slot: number): number {
  if (pos + 4 <= end && rangeEq(f, pos, pos + 4, "true")) {
    dst[slot] = 1;
    return pos + 4;
  }
  if (pos + 5 <= end && rangeEq(f, pos, pos + 5, "false")) {
    dst[slot] = 0;
    return pos + 5;
  }
  return typeError(f, pos, end);
}

/** t T s i f L o c h l v n x q V Q (`B`, "ignore", is skipped). */
const K_REQUIRED = 0xffff;

/** The `k` object at `pos`. `outerSymbol` is the symbol id from `s`, or -1 when not read yet. */
function decodeK(
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  out: KlineColumns,
  slot: number,
  mult: number,
): number {
  if (cc(f, pos) !== 0x7b) return typeError(f, pos, end);
  let p = ws(f, pos + 1, end);
  if (p >= end) return -S.TRUNCATED;
  if (cc(f, p) === 0x7d) return -S.MISSING_FIELD;
  let seen = 0;
  // Bounded: every iteration consumes at least one key and one value of a finite frame.
  for (;;) {
    const k = readKey(f, p, end);
    if (k < 0) return k;
    p = posOf(k);
    let r: number;
    let bit = 0;
    switch (keyOf(k)) {
      case 0x74: // t
        r = scanTime(f, p, end, out.open_time_us, slot, mult);
        bit = 1;
        break;
      case 0x54: // T
        r = scanTime(f, p, end, out.close_time_us, slot, mult);
        bit = 2;
        break;
      case 0x73: // s: must name the same symbol as the event's `s` (checked by the caller)
        r = readSymbol(f, p, end, symbols, out.symbol_id, slot);
        bit = 4;
        break;
      case 0x69: // i
        r = stringIs(f, p, end, "1m", false);
        bit = 8;
        break;
      case 0x66: // f
        r = scanTradeId(f, p, end, out.first_id, slot);
        bit = 16;
        break;
      case 0x4c: // L
        r = scanTradeId(f, p, end, out.last_id, slot);
        bit = 32;
        break;
      case 0x6f: // o
        r = scanDecimal(f, p, end, out.openw, slot);
        bit = 64;
        break;
      case 0x63: // c
        r = scanDecimal(f, p, end, out.closew, slot);
        bit = 128;
        break;
      case 0x68: // h
        r = scanDecimal(f, p, end, out.highw, slot);
        bit = 256;
        break;
      case 0x6c: // l
        r = scanDecimal(f, p, end, out.loww, slot);
        bit = 512;
        break;
      case 0x76: // v
        r = scanDecimal(f, p, end, out.volumew, slot);
        bit = 1024;
        break;
      case 0x6e: // n
        r = scanId(f, p, end, out.trades, slot);
        bit = 2048;
        break;
      case 0x78: // x
        r = readClosed(f, p, end, out.closed, slot);
        bit = 4096;
        break;
      case 0x71: // q
        r = scanDecimal(f, p, end, out.quote_volumew, slot);
        bit = 8192;
        break;
      case 0x56: // V
        r = scanDecimal(f, p, end, out.taker_buy_volumew, slot);
        bit = 16384;
        break;
      case 0x51: // Q
        r = scanDecimal(f, p, end, out.taker_buy_quote_volumew, slot);
        bit = 32768;
        break;
      default:
        r = skipValue(f, p, end, 0);
    }
    if (r < 0) return r;
    if ((seen & bit) !== 0) return -S.MALFORMED; // duplicate key: ambiguous, refuse
    seen |= bit;
    p = nextKey(f, r, end);
    if (p <= OBJ_END) {
      p = OBJ_END - p;
      break;
    }
    if (p < 0) return p;
  }
  return seen === K_REQUIRED ? p + 1 : -S.MISSING_FIELD;
}

/** The kline event object at `pos`: position after it, or -status. */
export function decodeKlineObject(
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  out: KlineColumns,
  slot: number,
  mult: number,
): number {
  if (cc(f, pos) !== 0x7b) return typeError(f, pos, end);
  let p = ws(f, pos + 1, end);
  if (p >= end) return -S.TRUNCATED;
  if (cc(f, p) === 0x7d) return -S.MISSING_FIELD;
  let seen = 0;
  let outer = -1;
  let kPos = -1;
  for (;;) {
    const k = readKey(f, p, end);
    if (k < 0) return k;
    p = posOf(k);
    let r: number;
    let bit = 0;
    switch (keyOf(k)) {
      case 0x65: // e
        r = stringIs(f, p, end, "kline", false);
        if (r === -S.NOT_CONFIGURED) return -S.UNKNOWN_EVENT;
        bit = 1;
        break;
      case 0x45: // E
        r = scanTime(f, p, end, out.event_time_us, slot, mult);
        bit = 2;
        break;
      case 0x73: // s
        r = readSymbol(f, p, end, symbols, out.symbol_id, slot);
        if (r >= 0) outer = out.symbol_id[slot]!;
        bit = 4;
        break;
      case 0x6b: // k: decoded after the loop, so its `s` can be checked against the event's
        kPos = p;
        r = skipValue(f, p, end, 0);
        bit = 8;
        break;
      default:
        r = skipValue(f, p, end, 0);
    }
    if (r < 0) return r;
    if ((seen & bit) !== 0) return -S.MALFORMED;
    seen |= bit;
    p = nextKey(f, r, end);
    if (p <= OBJ_END) {
      p = OBJ_END - p;
      break;
    }
    if (p < 0) return p;
  }
  if (seen !== 15) return -S.MISSING_FIELD;
  const r = decodeK(f, kPos, end, symbols, out, slot, mult);
  if (r < 0) return r;
  if (out.symbol_id[slot] !== outer) return -S.MALFORMED; // `s` and `k.s` disagree
  return p + 1;
}

/**
 * One kline frame (raw `/ws/<sym>@kline_1m` or combined) into row `slot` of `out`; times are
 * stored in µs (`timeUnitUs`: the stream was opened with timeUnit=MICROSECOND). Returns OK or the
 * status that explains the refusal (status.ts precedence: size, UTF-8, JSON syntax, semantics).
 */
export function decodeKlineFrame(
  frame: string | Uint8Array,
  symbols: SymbolLookup,
  out: KlineColumns,
  slot: number,
  timeUnitUs: boolean,
): S {
  const end = frame.length;
  if (end > MAX_FRAME_LENGTH) return S.TOO_LARGE;
  if (typeof frame !== "string" && !utf8Valid(frame)) return S.BAD_UTF8;
  const syntax = validateFrame(frame);
  if (syntax !== S.OK) return syntax as S;
  const mult = timeUnitUs ? 1 : 1000;
  const obj = ws(frame, 0, end);
  if (cc(frame, obj) !== 0x7b) return S.MALFORMED;
  // Combined form: find `stream` (must be @kline_1m) and `data`, in either order.
  let p = ws(frame, obj + 1, end);
  let dataPos = -1;
  let streamOk = false;
  let isCombined = false;
  if (cc(frame, p) !== 0x7d) {
    for (;;) {
      const k = readKey(frame, p, end);
      if (k < 0) return -k as S;
      const v = posOf(k);
      let r: number;
      if (keyOf(k) === K_STREAM) {
        isCombined = true;
        r = stringIs(frame, v, end, "@kline_1m", true);
        if (r === -S.NOT_CONFIGURED) return S.NOT_CONFIGURED;
        streamOk = r >= 0;
      } else {
        if (keyOf(k) === K_DATA) dataPos = v;
        r = skipValue(frame, v, end, 0);
      }
      if (r < 0) return -r as S;
      p = nextKey(frame, r, end);
      if (p <= OBJ_END) break;
      if (p < 0) return -p as S;
    }
  }
  let r: number;
  if (isCombined)
    r =
      streamOk && dataPos >= 0
        ? decodeKlineObject(frame, dataPos, end, symbols, out, slot, mult)
        : -S.MISSING_FIELD;
  else r = decodeKlineObject(frame, obj, end, symbols, out, slot, mult);
  return r < 0 ? (-r as S) : S.OK;
}
