/**
 * String frames in exactly the layouts Binance sends (combined `{"stream":..,"data":..}` or raw;
 * trade, aggTrade, bookTicker): the monomorphic `charCodeAt` fast path dispatch.ts tries first.
 * Why it exists: the generic Src accessor + `startsWith` version decoded "decode trade (combined)"
 * only ~1.7–1.9× faster than JSON.parse + extract (native-bench decode); this one is ~4.3–4.7×.
 * It returns true only for a frame it fully validated and decoded; false means "not fast" with
 * nothing reported (the slot may be partly written), and the generic path decides.
 */
import type { RowColumns } from "../../model/index.ts";
import { aggTradeFast } from "./fast-agg-trade.ts";
import { bookTickerFast } from "./fast-book-ticker.ts";
import { tradeFast } from "./fast-trade.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Shorter frames are never one of the layouts below (the shortest, raw bookTicker, is 47). */
const MIN_LENGTH = 40;

export function decodeFastString(
  f: string,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): boolean {
  // The last character must be '}': every scan below stops at it (see fast-scan.ts "Bounds").
  if (end < MIN_LENGTH || f.charCodeAt(end - 1) !== 125 || f.charCodeAt(0) !== 123 || f.charCodeAt(1) !== 34)
    return false;
  const k = f.charCodeAt(2);
  if (k === 115) {
    // {"stream":"<name>@<kind>","data":<payload>} with a plain lowercase name (the generic path
    // takes escapes, other characters and the other key order).
    if (
      f.charCodeAt(3) !== 116 ||
      f.charCodeAt(4) !== 114 ||
      f.charCodeAt(5) !== 101 ||
      f.charCodeAt(6) !== 97 ||
      f.charCodeAt(7) !== 109 ||
      f.charCodeAt(8) !== 34 ||
      f.charCodeAt(9) !== 58 ||
      f.charCodeAt(10) !== 34
    )
      return false;
    let p = 11;
    let c = f.charCodeAt(p);
    while ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) c = f.charCodeAt(++p);
    if (c !== 64 || p === 11) return false;
    c = f.charCodeAt(p + 1);
    let r: number;
    if (c === 116) {
      // @trade","data":
      if (
        f.charCodeAt(p + 2) !== 114 ||
        f.charCodeAt(p + 3) !== 97 ||
        f.charCodeAt(p + 4) !== 100 ||
        f.charCodeAt(p + 5) !== 101 ||
        f.charCodeAt(p + 6) !== 34 ||
        f.charCodeAt(p + 7) !== 44 ||
        f.charCodeAt(p + 8) !== 34 ||
        f.charCodeAt(p + 9) !== 100 ||
        f.charCodeAt(p + 10) !== 97 ||
        f.charCodeAt(p + 11) !== 116 ||
        f.charCodeAt(p + 12) !== 97 ||
        f.charCodeAt(p + 13) !== 34 ||
        f.charCodeAt(p + 14) !== 58
      )
        return false;
      r = tradeFast(f, p + 15, symbols, out, slot, recv, mult);
    } else if (c === 97) {
      // @aggTrade","data":
      if (
        f.charCodeAt(p + 2) !== 103 ||
        f.charCodeAt(p + 3) !== 103 ||
        f.charCodeAt(p + 4) !== 84 ||
        f.charCodeAt(p + 5) !== 114 ||
        f.charCodeAt(p + 6) !== 97 ||
        f.charCodeAt(p + 7) !== 100 ||
        f.charCodeAt(p + 8) !== 101 ||
        f.charCodeAt(p + 9) !== 34 ||
        f.charCodeAt(p + 10) !== 44 ||
        f.charCodeAt(p + 11) !== 34 ||
        f.charCodeAt(p + 12) !== 100 ||
        f.charCodeAt(p + 13) !== 97 ||
        f.charCodeAt(p + 14) !== 116 ||
        f.charCodeAt(p + 15) !== 97 ||
        f.charCodeAt(p + 16) !== 34 ||
        f.charCodeAt(p + 17) !== 58
      )
        return false;
      r = aggTradeFast(f, p + 18, symbols, out, slot, recv, mult);
    } else if (c === 98) {
      // @bookTicker","data":
      if (
        f.charCodeAt(p + 2) !== 111 ||
        f.charCodeAt(p + 3) !== 111 ||
        f.charCodeAt(p + 4) !== 107 ||
        f.charCodeAt(p + 5) !== 84 ||
        f.charCodeAt(p + 6) !== 105 ||
        f.charCodeAt(p + 7) !== 99 ||
        f.charCodeAt(p + 8) !== 107 ||
        f.charCodeAt(p + 9) !== 101 ||
        f.charCodeAt(p + 10) !== 114 ||
        f.charCodeAt(p + 11) !== 34 ||
        f.charCodeAt(p + 12) !== 44 ||
        f.charCodeAt(p + 13) !== 34 ||
        f.charCodeAt(p + 14) !== 100 ||
        f.charCodeAt(p + 15) !== 97 ||
        f.charCodeAt(p + 16) !== 116 ||
        f.charCodeAt(p + 17) !== 97 ||
        f.charCodeAt(p + 18) !== 34 ||
        f.charCodeAt(p + 19) !== 58
      )
        return false;
      r = bookTickerFast(f, p + 20, symbols, out, slot, recv);
    } else return false;
    return r === end - 1; // the payload's '}', then the wrapper's (checked above), then the end
  }
  if (k === 101) {
    const c = f.charCodeAt(6);
    if (c === 116) return tradeFast(f, 0, symbols, out, slot, recv, mult) === end;
    if (c === 97) return aggTradeFast(f, 0, symbols, out, slot, recv, mult) === end;
    return false;
  }
  return k === 117 && bookTickerFast(f, 0, symbols, out, slot, recv) === end;
}
