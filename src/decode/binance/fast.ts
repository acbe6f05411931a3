/**
 * The exact layouts Binance sends (combined `{"stream":..,"data":..}` or raw; trade, aggTrade,
 * bookTicker): the fast path dispatch.ts tries first, for string frames (decodeFastString) and
 * bytes frames (fast-bytes.ts). Both copy the frame into the scratch buffer and run
 * decodeScratch, so one decoder per layout serves both forms.
 * It returns true only for a frame it fully validated and decoded; false means "not fast" with
 * nothing reported (the slot may be partly written), and the generic path decides.
 */
import type { RowColumns } from "../../model/index.ts";
import { aggTradeFast } from "./fast-agg-trade.ts";
import { bookTickerFast } from "./fast-book-ticker.ts";
import { B, FAST_MAX_LENGTH, SCRATCH, V, word } from "./fast-scan.ts";
import { tradeFast } from "./fast-trade.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Shorter frames are never one of the layouts below (the shortest, raw bookTicker, is 47). */
export const MIN_LENGTH = 40;

export function decodeFastString(
  f: string,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): boolean {
  // UTF-8 bytes equal the characters exactly when the frame is ASCII; any other character makes
  // the count differ (no truncation: SCRATCH holds 3 bytes per character), and the generic path
  // takes the frame.
  if (end < MIN_LENGTH || end > FAST_MAX_LENGTH || SCRATCH.write(f) !== end) return false;
  return decodeScratch(end, symbols, out, slot, recv, mult);
}

const STREAM_0 = word('{"st');
const STREAM_4 = word("ream");
const STREAM_7 = word('m":"');
const RAW_E = word('{"e"');
const RAW_U = word('{"u"');
const TRADE_1 = word("trad");
const TRADE_5 = word('e","');
const TRADE_9 = word("data");
const TRADE_12 = word('a":{');
const AGG_1 = word("aggT");
const AGG_5 = word("rade");
const AGG_9 = word('","d');
const AGG_13 = word('ata"');
const AGG_15 = word('a":{');
const BOOK_1 = word("book");
const BOOK_5 = word("Tick");
const BOOK_9 = word('er",');
const BOOK_13 = word('"dat');
const BOOK_17 = word('a":{');

/** The frame in the scratch buffer, `end` bytes long. */
export function decodeScratch(
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): boolean {
  // The last byte must be '}': every scan stops at it (see fast-scan.ts "Bounds").
  if (B[end - 1] !== 125) return false;
  const k = V.getInt32(0, true);
  if (k === STREAM_0) {
    // {"stream":"<name>@<kind>","data":<payload>} with a plain lowercase name (the generic path
    // takes escapes, other characters and the other key order).
    if (V.getInt32(4, true) !== STREAM_4 || V.getInt32(7, true) !== STREAM_7) return false;
    let p = 11;
    let c = B[p]!;
    while ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) c = B[++p]!;
    if (c !== 64 || p === 11) return false;
    let r: number;
    c = B[p + 1]!;
    if (c === 116) {
      // @trade","data":{
      if (
        V.getInt32(p + 1, true) !== TRADE_1 ||
        V.getInt32(p + 5, true) !== TRADE_5 ||
        V.getInt32(p + 9, true) !== TRADE_9 ||
        V.getInt32(p + 12, true) !== TRADE_12
      )
        return false;
      r = tradeFast(p + 15, symbols, out, slot, recv, mult);
    } else if (c === 97) {
      // @aggTrade","data":{
      if (
        V.getInt32(p + 1, true) !== AGG_1 ||
        V.getInt32(p + 5, true) !== AGG_5 ||
        V.getInt32(p + 9, true) !== AGG_9 ||
        V.getInt32(p + 13, true) !== AGG_13 ||
        V.getInt32(p + 15, true) !== AGG_15
      )
        return false;
      r = aggTradeFast(p + 18, symbols, out, slot, recv, mult);
    } else if (c === 98) {
      // @bookTicker","data":{
      if (
        V.getInt32(p + 1, true) !== BOOK_1 ||
        V.getInt32(p + 5, true) !== BOOK_5 ||
        V.getInt32(p + 9, true) !== BOOK_9 ||
        V.getInt32(p + 13, true) !== BOOK_13 ||
        V.getInt32(p + 17, true) !== BOOK_17
      )
        return false;
      r = bookTickerFast(p + 20, symbols, out, slot, recv);
    } else return false;
    return r === end - 1; // the payload's '}', then the wrapper's (checked above), then the end
  }
  if (k === RAW_E) {
    const c = B[6];
    if (c === 116) return tradeFast(0, symbols, out, slot, recv, mult) === end;
    if (c === 97) return aggTradeFast(0, symbols, out, slot, recv, mult) === end;
    return false;
  }
  return k === RAW_U && bookTickerFast(0, symbols, out, slot, recv) === end;
}
