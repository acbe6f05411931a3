/**
 * Depth frames → a caller-owned DepthFrame, allocation-free like the trade decoders:
 * - the diff stream `<symbol>@depth@100ms` / `@depth`:
 *   `{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}`
 * - the partial-depth stream `<symbol>@depth<5|10|20>[@100ms]`:
 *   `{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}` (no symbol: the
 *   combined stream name gives it, or the caller for a raw `/ws/<stream>` connection);
 * - the REST snapshot body of `GET /api/v3/depth` (same shape, up to 5,000 levels per side).
 * https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#diff-depth-stream
 *
 * Raw or combined (`{"stream":..,"data":..}` in either order), any key order and whitespace,
 * unknown keys skipped. Same contract as decodeFrame (dispatch.ts): a status number, no throw, no
 * await, no allocation except for JSON escapes and a side's growth (depth-frame.ts). Status
 * precedence is status.ts's: TOO_LARGE, BAD_UTF8, JSON syntax over the whole frame, then the
 * first semantic problem in frame order, MISSING_FIELD last. A frame mixing diff keys (`e`, `U`,
 * `b`...) with partial-depth keys (`lastUpdateId`, `bids`, `asks`), a diff with U > u, or a
 * combined stream name disagreeing with its payload (kind or symbol) is MALFORMED.
 *
 * Level lists in Binance's exact layout are read by depth-fast.ts first (string frames).
 * Positions can pass 2^17 here (a 5,000-level snapshot), so keys are read here (depth-names.ts
 * classifies them) rather than by fields.ts readKey, whose packed result assumes frames under
 * 64 KiB.
 */

import { fastLevels, NOT_FAST } from "./depth-fast.ts";
import {
  DEPTH_DIFF,
  DEPTH_MAX_FRAME_LENGTH,
  DEPTH_PARTIAL,
  DEPTH_SNAPSHOT,
  type DepthFrame,
  type DepthSide,
  REJECT_ASKS,
  REJECT_BIDS,
  REJECT_FRAME,
} from "./depth-frame.ts";
import {
  classifyKey,
  DepthStreamName,
  K_ASKS,
  K_BIDS,
  K_DATA,
  K_LAST_UPDATE_ID,
  K_STREAM,
  nameIs,
} from "./depth-names.ts";
import { scanDecimal, scanId, scanTime, typeError } from "./numbers.ts";
import {
  cc,
  hasBackslash,
  type Src,
  skipString,
  skipValue,
  unescapeRange,
  utf8Valid,
  validateFrame,
  ws,
} from "./scan.ts";
import { DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Returned by the payload reader when the top-level object turns out to be a combined wrapper. */
const WRAPPER = -1_000_000;

// seen bits
const B_E = 1;
const B_TIME = 2;
const B_SYM = 4;
const B_FIRST = 8;
const B_LAST = 16;
const B_BIDS = 32;
const B_ASKS = 64;
const B_LUID = 128;
const DIFF_KEYS = B_E | B_TIME | B_SYM | B_FIRST | B_LAST;
const DIFF_ALL = DIFF_KEYS | B_BIDS | B_ASKS;
const PARTIAL_ALL = B_LUID | B_BIDS | B_ASKS;

// scratch slots in #ids
const I_FIRST = 0;
const I_LAST = 1;
const I_LUID = 2;
const I_TIME = 3;

/** `[[price, qty], ...]` at `pos` into `side`; position after ']' or -status (out.reject* set). */
function readLevels(
  f: Src,
  pos: number,
  end: number,
  side: DepthSide,
  code: number,
  out: DepthFrame,
): number {
  if (cc(f, pos) !== 0x5b) return typeError(f, pos, end);
  if (typeof f === "string") {
    const r = fastLevels(f, pos, side);
    if (r !== NOT_FAST) return r;
  }
  side.n = 0;
  let p = ws(f, pos + 1, end);
  if (p >= end) return -S.TRUNCATED;
  if (cc(f, p) === 0x5d) return p + 1;
  out.rejectSide = code;
  // Bounded: every iteration consumes one level of a finite frame (and at most maxLevels of them).
  for (let i = 0; ; i++) {
    out.rejectLevel = i;
    if (cc(f, p) !== 0x5b) return typeError(f, p, end);
    if (!side.ensure(i)) return -S.TOO_LARGE;
    p = ws(f, p + 1, end);
    if (p >= end) return -S.TRUNCATED;
    if (cc(f, p) === 0x5d) return -S.BAD_TYPE; // [] is not a level
    p = scanDecimal(f, p, end, side.pxw, i);
    if (p < 0) return p;
    p = ws(f, p, end);
    if (p >= end) return -S.TRUNCATED;
    if (cc(f, p) !== 0x2c) return cc(f, p) === 0x5d ? -S.BAD_TYPE : -S.MALFORMED;
    p = ws(f, p + 1, end);
    if (p >= end) return -S.TRUNCATED;
    p = scanDecimal(f, p, end, side.qtyw, i);
    if (p < 0) return p;
    p = ws(f, p, end);
    if (p >= end) return -S.TRUNCATED;
    const c = cc(f, p);
    if (c !== 0x5d) return c === 0x2c ? -S.BAD_TYPE : -S.MALFORMED; // a third element
    p = ws(f, p + 1, end);
    if (p >= end) return -S.TRUNCATED;
    const d = cc(f, p);
    if (d === 0x5d) {
      side.n = i + 1;
      out.rejectSide = REJECT_FRAME;
      out.rejectLevel = -1;
      return p + 1;
    }
    if (d !== 0x2c) return -S.MALFORMED;
    p = ws(f, p + 1, end);
    if (p >= end) return -S.TRUNCATED;
  }
}

export class DepthDecoder {
  readonly #symbols: SymbolLookup;
  /** Key code of the last #readKey. */
  #key = 0;
  readonly #ids = new Float64Array(4);
  readonly #symId = new Uint16Array(1);
  readonly #stream = new DepthStreamName();

  constructor(symbols: SymbolLookup) {
    this.#symbols = symbols;
  }

  /**
   * One WebSocket depth frame (diff or partial depth, raw or combined) into `out`.
   * `rawSymbolId` names the symbol of a raw partial-depth frame (it carries none); -1 when the
   * connection is combined. `timeUnitUs`: the stream was opened with timeUnit=MICROSECOND.
   */
  decode(frame: Src, out: DepthFrame, recvTimeUs: number, timeUnitUs: boolean, rawSymbolId = -1): S {
    const s = this.#top(frame, out, recvTimeUs, timeUnitUs ? 1 : 1000, rawSymbolId, false);
    return s === S.OK ? s : this.#refine(frame, s, out);
  }

  /** A `GET /api/v3/depth` body for `symbolId` into `out` (kind DEPTH_SNAPSHOT). */
  decodeSnapshot(body: Src, symbolId: number, out: DepthFrame, recvTimeUs: number): S {
    const s = this.#top(body, out, recvTimeUs, 1000, symbolId, true);
    return s === S.OK ? s : this.#refine(body, s, out);
  }

  /** A refusal's status by precedence: BAD_UTF8, then a JSON syntax error anywhere, then `s`. */
  #refine(f: Src, s: number, out: DepthFrame): S {
    if (s === S.TOO_LARGE && f.length > DEPTH_MAX_FRAME_LENGTH) return S.TOO_LARGE;
    const v = typeof f !== "string" && !utf8Valid(f) ? S.BAD_UTF8 : validateFrame(f);
    if (v === S.OK) return s as S;
    out.rejectSide = REJECT_FRAME; // the whole frame is at fault, not the level being read
    out.rejectLevel = -1;
    return v as S;
  }

  #top(f: Src, out: DepthFrame, recv: number, mult: number, rawSym: number, rest: boolean): number {
    const end = f.length;
    out.rejectSide = REJECT_FRAME;
    out.rejectLevel = -1;
    out.bids.n = 0;
    out.asks.n = 0;
    if (end > DEPTH_MAX_FRAME_LENGTH) return S.TOO_LARGE;
    const obj = ws(f, 0, end);
    if (obj >= end) return S.TRUNCATED;
    if (cc(f, obj) !== 0x7b) {
      const r = skipValue(f, obj, end, 0);
      return r < 0 ? -r : S.MALFORMED; // valid JSON but not an object
    }
    out.recvTimeUs = recv;
    let r = this.#payload(f, obj, end, out, mult, !rest);
    if (r === WRAPPER) r = this.#wrapper(f, obj, end, out, mult);
    else if (r >= 0) {
      if (out.kind === DEPTH_DIFF) {
        if (rest) return S.UNKNOWN_EVENT; // a snapshot body must be the partial-depth shape
      } else if (rest) out.kind = DEPTH_SNAPSHOT;
      if (out.kind !== DEPTH_DIFF) {
        if (rawSym < 0) return S.NOT_CONFIGURED; // raw partial depth: the caller must name the symbol
        out.symbolId = rawSym;
      }
    }
    if (r < 0) return -r;
    return ws(f, r, end) === end ? S.OK : S.MALFORMED; // trailing garbage after the object
  }

  /** `"key"` ws ':' ws at `pos`: the value's position (key code in #key), or -status. */
  #readKey(f: Src, pos: number, end: number): number {
    if (pos >= end) return -S.TRUNCATED;
    if (cc(f, pos) !== 0x22) return -S.MALFORMED;
    const r = skipString(f, pos + 1, end);
    if (r < 0) return r;
    this.#key = classifyKey(f, pos + 1, r - 1);
    let p = ws(f, r, end);
    if (p >= end) return -S.TRUNCATED;
    if (cc(f, p) !== 0x3a) return -S.MALFORMED;
    p = ws(f, p + 1, end);
    return p >= end ? -S.TRUNCATED : p;
  }

  /** After a value: the next key's position, -(position of '}') - 2 at the end, or -status. */
  #next(f: Src, pos: number, end: number): number {
    pos = ws(f, pos, end);
    if (pos >= end) return -S.TRUNCATED;
    const c = cc(f, pos);
    if (c === 0x2c) return ws(f, pos + 1, end);
    if (c === 0x7d) return WRAPPER - 1 - pos;
    return -S.MALFORMED;
  }

  /** The event object at `pos` ('{'): position after '}', WRAPPER, or -status. */
  #payload(f: Src, pos: number, end: number, out: DepthFrame, mult: number, top: boolean): number {
    let p = ws(f, pos + 1, end);
    if (p >= end) return -S.TRUNCATED;
    if (cc(f, p) === 0x7d) return -S.UNKNOWN_EVENT;
    const ids = this.#ids;
    let seen = 0;
    // Bounded: every iteration consumes one key and one value of a finite frame.
    for (;;) {
      p = this.#readKey(f, p, end);
      if (p < 0) return p;
      let r: number;
      let bit = 0;
      switch (this.#key) {
        case 0x65: // e
          r = nameIs(f, p, end, "depthUpdate", S.UNKNOWN_EVENT);
          bit = B_E;
          break;
        case 0x45: // E
          r = scanTime(f, p, end, ids, I_TIME, mult);
          bit = B_TIME;
          break;
        case 0x73: // s
          r = this.#readSymbol(f, p, end);
          bit = B_SYM;
          break;
        case 0x55: // U
          r = scanId(f, p, end, ids, I_FIRST);
          bit = B_FIRST;
          break;
        case 0x75: // u
          r = scanId(f, p, end, ids, I_LAST);
          bit = B_LAST;
          break;
        case K_LAST_UPDATE_ID:
          r = scanId(f, p, end, ids, I_LUID);
          bit = B_LUID;
          break;
        case 0x62: // b
        case K_BIDS:
          if ((seen & B_BIDS) !== 0) return -S.MALFORMED; // before writing over the first
          r = readLevels(f, p, end, out.bids, REJECT_BIDS, out);
          bit = B_BIDS;
          break;
        case 0x61: // a
        case K_ASKS:
          if ((seen & B_ASKS) !== 0) return -S.MALFORMED;
          r = readLevels(f, p, end, out.asks, REJECT_ASKS, out);
          bit = B_ASKS;
          break;
        case K_STREAM:
        case K_DATA:
          if (top) return WRAPPER;
          r = skipValue(f, p, end, 0);
          break;
        default:
          r = skipValue(f, p, end, 0);
      }
      if (r < 0) return r;
      if ((seen & bit) !== 0) return -S.MALFORMED; // duplicate key: ambiguous, refuse
      seen |= bit;
      p = this.#next(f, r, end);
      if (p < WRAPPER) {
        p = WRAPPER - 1 - p;
        break;
      }
      if (p < 0) return p;
    }
    if ((seen & DIFF_KEYS) !== 0 && (seen & B_LUID) !== 0) return -S.MALFORMED;
    if ((seen & DIFF_KEYS) !== 0) {
      if (seen !== DIFF_ALL) return -S.MISSING_FIELD;
      if (ids[I_FIRST]! > ids[I_LAST]!) return -S.MALFORMED;
      out.kind = DEPTH_DIFF;
      out.symbolId = this.#symId[0]!;
      out.firstId = ids[I_FIRST]!;
      out.lastId = ids[I_LAST]!;
      out.eventTimeUs = ids[I_TIME]!;
    } else if (seen !== 0) {
      if (seen !== PARTIAL_ALL) return -S.MISSING_FIELD;
      out.kind = DEPTH_PARTIAL;
      out.firstId = ids[I_LUID]!;
      out.lastId = ids[I_LUID]!;
      out.eventTimeUs = out.recvTimeUs;
    } else return -S.UNKNOWN_EVENT;
    return p + 1;
  }

  /** `{"stream":..,"data":..}` in either order: position after '}' or -status. */
  #wrapper(f: Src, obj: number, end: number, out: DepthFrame, mult: number): number {
    let p = ws(f, obj + 1, end);
    let haveStream = false;
    let haveData = false;
    // Bounded: every iteration consumes one key and one value of a finite frame.
    for (;;) {
      p = this.#readKey(f, p, end);
      if (p < 0) return p;
      let r: number;
      if (this.#key === K_STREAM) {
        if (haveStream) return -S.MALFORMED;
        haveStream = true;
        r = this.#stream.read(f, p, end, this.#symbols);
      } else if (this.#key === K_DATA) {
        if (haveData) return -S.MALFORMED;
        haveData = true;
        r = cc(f, p) === 0x7b ? this.#payload(f, p, end, out, mult, false) : typeError(f, p, end);
      } else r = skipValue(f, p, end, 0);
      if (r < 0) return r;
      p = this.#next(f, r, end);
      if (p < WRAPPER) {
        p = WRAPPER - 1 - p;
        break;
      }
      if (p < 0) return p;
    }
    if (!haveStream || !haveData) return -S.MISSING_FIELD;
    if (out.kind !== this.#stream.kind) return -S.MALFORMED;
    if (out.kind === DEPTH_DIFF) {
      if (out.symbolId !== this.#stream.symbolId) return -S.MALFORMED;
    } else out.symbolId = this.#stream.symbolId;
    return p + 1;
  }

  /** `s` into #symId: NOT_CONFIGURED when unknown. */
  #readSymbol(f: Src, pos: number, end: number): number {
    if (cc(f, pos) !== 0x22) return typeError(f, pos, end);
    const symbols = this.#symbols;
    const id = symbols.find(f, pos + 1, end);
    if (id >= 0) {
      this.#symId[0] = id;
      return symbols.stop + 1;
    }
    const stop = symbols.stop;
    const r = skipString(f, pos + 1, end);
    if (r < 0) return r;
    if (stop === r - 1 || !hasBackslash(f, pos + 1, r - 1)) return -S.NOT_CONFIGURED;
    const esc = symbols.findText(unescapeRange(f, pos + 1, r - 1)); // slow path: escaped symbol
    if (esc < 0) return -S.NOT_CONFIGURED;
    this.#symId[0] = esc;
    return r;
  }
}
