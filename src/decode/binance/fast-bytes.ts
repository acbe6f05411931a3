/**
 * The bytes twin of fast.ts (UTF-8 frames from files and the WAL; native-bench "decode trade
 * (combined, bytes)"): the same layouts and contract with typed-array reads instead of
 * `charCodeAt`. Any byte ≥ 0x80 is outside every accepted character set, so a frame it accepts is
 * plain ASCII and needs no UTF-8 check.
 */
import type { RowColumns } from "../../model/index.ts";
import { aggTradeFastBytes } from "./fast-agg-trade-bytes.ts";
import { bookTickerFastBytes } from "./fast-book-ticker-bytes.ts";
import { tradeFastBytes } from "./fast-trade-bytes.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Shorter frames are never one of the layouts below (the shortest, raw bookTicker, is 47). */
const MIN_LENGTH = 40;

export function decodeFastBytes(
  f: Uint8Array,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): boolean {
  // The last character must be '}': every scan below stops at it (see fast-scan.ts "Bounds").
  if (end < MIN_LENGTH || f[end - 1]! !== 125 || f[0]! !== 123 || f[1]! !== 34) return false;
  const k = f[2]!;
  if (k === 115) {
    // {"stream":"<name>@<kind>","data":<payload>} with a plain lowercase name (the generic path
    // takes escapes, other characters and the other key order).
    if (
      f[3]! !== 116 ||
      f[4]! !== 114 ||
      f[5]! !== 101 ||
      f[6]! !== 97 ||
      f[7]! !== 109 ||
      f[8]! !== 34 ||
      f[9]! !== 58 ||
      f[10]! !== 34
    )
      return false;
    let p = 11;
    let c = f[p]!;
    while ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) c = f[++p]!;
    if (c !== 64 || p === 11) return false;
    c = f[p + 1]!;
    let r: number;
    if (c === 116) {
      // @trade","data":
      if (
        f[p + 2]! !== 114 ||
        f[p + 3]! !== 97 ||
        f[p + 4]! !== 100 ||
        f[p + 5]! !== 101 ||
        f[p + 6]! !== 34 ||
        f[p + 7]! !== 44 ||
        f[p + 8]! !== 34 ||
        f[p + 9]! !== 100 ||
        f[p + 10]! !== 97 ||
        f[p + 11]! !== 116 ||
        f[p + 12]! !== 97 ||
        f[p + 13]! !== 34 ||
        f[p + 14]! !== 58
      )
        return false;
      r = tradeFastBytes(f, p + 15, symbols, out, slot, recv, mult);
    } else if (c === 97) {
      // @aggTrade","data":
      if (
        f[p + 2]! !== 103 ||
        f[p + 3]! !== 103 ||
        f[p + 4]! !== 84 ||
        f[p + 5]! !== 114 ||
        f[p + 6]! !== 97 ||
        f[p + 7]! !== 100 ||
        f[p + 8]! !== 101 ||
        f[p + 9]! !== 34 ||
        f[p + 10]! !== 44 ||
        f[p + 11]! !== 34 ||
        f[p + 12]! !== 100 ||
        f[p + 13]! !== 97 ||
        f[p + 14]! !== 116 ||
        f[p + 15]! !== 97 ||
        f[p + 16]! !== 34 ||
        f[p + 17]! !== 58
      )
        return false;
      r = aggTradeFastBytes(f, p + 18, symbols, out, slot, recv, mult);
    } else if (c === 98) {
      // @bookTicker","data":
      if (
        f[p + 2]! !== 111 ||
        f[p + 3]! !== 111 ||
        f[p + 4]! !== 107 ||
        f[p + 5]! !== 84 ||
        f[p + 6]! !== 105 ||
        f[p + 7]! !== 99 ||
        f[p + 8]! !== 107 ||
        f[p + 9]! !== 101 ||
        f[p + 10]! !== 114 ||
        f[p + 11]! !== 34 ||
        f[p + 12]! !== 44 ||
        f[p + 13]! !== 34 ||
        f[p + 14]! !== 100 ||
        f[p + 15]! !== 97 ||
        f[p + 16]! !== 116 ||
        f[p + 17]! !== 97 ||
        f[p + 18]! !== 34 ||
        f[p + 19]! !== 58
      )
        return false;
      r = bookTickerFastBytes(f, p + 20, symbols, out, slot, recv);
    } else return false;
    return r === end - 1; // the payload's '}', then the wrapper's (checked above), then the end
  }
  if (k === 101) {
    const c = f[6]!;
    if (c === 116) return tradeFastBytes(f, 0, symbols, out, slot, recv, mult) === end;
    if (c === 97) return aggTradeFastBytes(f, 0, symbols, out, slot, recv, mult) === end;
    return false;
  }
  return k === 117 && bookTickerFastBytes(f, 0, symbols, out, slot, recv) === end;
}
