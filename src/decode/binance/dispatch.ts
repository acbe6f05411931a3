/**
 * decodeFrame: one Binance market-stream frame (raw `/ws/<stream>` or combined
 * `{"stream":..,"data":..}`) → one row at `slot` of the caller's RowColumns, plus a status.
 *
 * Order of work, cheapest first:
 * 1. the exact layouts Binance sends, matched by the per-stream fast paths (fast.ts for strings,
 *    fast-bytes.ts for bytes; no whitespace, Binance's key order; any difference falls through,
 *    nothing is reported from here);
 * 2. the generic path: one validating pass over the top-level object to classify it (combined,
 *    raw event by `e`, control response, raw bookTicker by `u`), then the per-stream decoder;
 * 3. on any non-OK status from bytes, a whole-frame UTF-8 check, so BAD_UTF8 outranks the rest.
 *
 * Never throws, awaits or logs; allocates only for JSON escapes inside fields we read.
 * On a non-OK status the contents of `slot` are unspecified (partially written); no other slot
 * is touched.
 */
import type { RowColumns } from "../../model/index.ts";
import { decodeAggTradeObject } from "./agg-trade.ts";
import { decodeBookTickerObject } from "./book-ticker.ts";
import { decodeFastString } from "./fast.ts";
import { decodeFastBytes } from "./fast-bytes.ts";
import {
  EV_AGG_TRADE,
  EV_BOOK_TICKER,
  EV_OTHER_STREAM,
  EV_SHUTDOWN,
  EV_TRADE,
  K_CODE,
  K_DATA,
  K_RESULT,
  K_STREAM,
  keyOf,
  nextKey,
  OBJ_END,
  posOf,
  readKey,
  readName,
} from "./fields.ts";
import { typeError } from "./numbers.ts";
import { cc, type Src, skipValue, utf8Valid, ws } from "./scan.ts";
import { MAX_FRAME_LENGTH, DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";
import { decodeTradeObject } from "./trade.ts";

/**
 * Decode one frame into row `slot` of `out`. `recvTimeUs` is our receive time (µs);
 * `timeUnitUs` is true when the stream was opened with timeUnit=MICROSECOND (times are then µs,
 * otherwise ms); rows always hold µs.
 */
export function decodeFrame(
  frame: string | Uint8Array,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recvTimeUs: number,
  timeUnitUs: boolean,
): S {
  const end = frame.length;
  if (end > MAX_FRAME_LENGTH) return S.TOO_LARGE;
  const mult = timeUnitUs ? 1 : 1000;
  if (typeof frame === "string") {
    if (decodeFastString(frame, end, symbols, out, slot, recvTimeUs, mult)) return S.OK;
  } else if (decodeFastBytes(frame, end, symbols, out, slot, recvTimeUs, mult)) return S.OK;
  const s = generic(frame, end, symbols, out, slot, recvTimeUs, mult);
  if (s === S.OK || typeof frame === "string" || utf8Valid(frame)) return s;
  return S.BAD_UTF8;
}

/** The payload object at `pos` as event `ev`: position after it, or -status. */
function byEvent(
  ev: number,
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): number {
  if (ev === EV_TRADE) return decodeTradeObject(f, pos, end, symbols, out, slot, recv, mult);
  if (ev === EV_AGG_TRADE) return decodeAggTradeObject(f, pos, end, symbols, out, slot, recv, mult);
  if (ev === EV_BOOK_TICKER) return decodeBookTickerObject(f, pos, end, symbols, out, slot, recv);
  if (ev === EV_SHUTDOWN) return -S.SERVER_SHUTDOWN;
  return -S.UNKNOWN_EVENT;
}

/** Any frame: classify with one validating pass, then decode. Returns a status. */
function generic(
  f: Src,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): S {
  const obj = ws(f, 0, end);
  if (obj >= end) return S.TRUNCATED;
  if (cc(f, obj) !== 0x7b) {
    const r = skipValue(f, obj, end, 0);
    return r < 0 ? (-r as S) : S.MALFORMED; // valid JSON but not an object
  }
  let hasStream = false;
  let ePos = -1;
  let control = false;
  let hasU = false;
  let p = ws(f, obj + 1, end);
  if (p >= end) return S.TRUNCATED;
  if (cc(f, p) !== 0x7d) {
    // Bounded: every iteration consumes one key and one value of a finite frame.
    for (;;) {
      const k = readKey(f, p, end);
      if (k < 0) return -k as S;
      const key = keyOf(k);
      const v = posOf(k);
      if (key === K_STREAM) hasStream = true;
      else if (key === 0x65 && ePos < 0) ePos = v;
      else if (key === K_RESULT || key === K_CODE) control = true;
      else if (key === 0x75) hasU = true;
      const r = skipValue(f, v, end, 0);
      if (r < 0) return -r as S;
      p = nextKey(f, r, end);
      if (p <= OBJ_END) {
        p = OBJ_END - p;
        break;
      }
      if (p < 0) return -p as S;
    }
  }
  if (ws(f, p + 1, end) !== end) return S.MALFORMED; // trailing garbage after the object
  let r: number;
  if (hasStream) r = combined(f, obj, end, symbols, out, slot, recv, mult);
  else if (ePos >= 0) {
    const n = readName(f, ePos, end, false);
    r = n < 0 ? n : byEvent(keyOf(n), f, obj, end, symbols, out, slot, recv, mult);
  } else if (control) return S.CONTROL;
  else if (hasU) r = decodeBookTickerObject(f, obj, end, symbols, out, slot, recv);
  else return S.UNKNOWN_EVENT;
  return r < 0 ? (-r as S) : S.OK;
}

/** The combined `data` value: an object decoded as `ev`, else BAD_TYPE. */
function payload(
  ev: number,
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): number {
  if (cc(f, pos) !== 0x7b) return typeError(f, pos, end);
  return byEvent(ev, f, pos, end, symbols, out, slot, recv, mult);
}

/** `{"stream":..,"data":..}` in either order; the stream name is judged before the payload. */
function combined(
  f: Src,
  obj: number,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): number {
  let ev = -1;
  let dataPos = -1;
  let p = ws(f, obj + 1, end);
  // Bounded: every iteration consumes one key and one value of a finite frame.
  for (;;) {
    const k = readKey(f, p, end);
    if (k < 0) return k;
    const v = posOf(k);
    let r: number;
    const key = keyOf(k);
    if (key === K_STREAM) {
      if (ev >= 0) return -S.MALFORMED; // duplicate key
      const n = readName(f, v, end, true);
      if (n < 0) return n;
      ev = keyOf(n);
      r = posOf(n);
      if (ev === EV_SHUTDOWN) return -S.SERVER_SHUTDOWN;
      if (ev === EV_OTHER_STREAM) return -S.NOT_CONFIGURED;
      if (dataPos >= 0) {
        const d = payload(ev, f, dataPos, end, symbols, out, slot, recv, mult);
        if (d < 0) return d;
      }
    } else if (key === K_DATA) {
      if (dataPos >= 0) return -S.MALFORMED; // duplicate key
      dataPos = v;
      r = ev >= 0 ? payload(ev, f, v, end, symbols, out, slot, recv, mult) : skipValue(f, v, end, 0);
    } else r = skipValue(f, v, end, 0);
    if (r < 0) return r;
    p = nextKey(f, r, end);
    if (p <= OBJ_END) return ev < 0 || dataPos < 0 ? -S.MISSING_FIELD : OBJ_END - p + 1;
    if (p < 0) return p;
  }
}
