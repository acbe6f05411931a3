/**
 * `<symbol>@bookTicker` payloads into the quotes row layout (model/row.ts). Spot sends no event
 * type and no event time, so event_time_us is the receive time (model/tables.ts):
 * `{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`
 * https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#individual-symbol-book-ticker-streams
 *
 * An `e` key is accepted only as "bookTicker" (the futures form). The generic decoder; the exact
 * spot layout is decoded first by fast-book-ticker.ts (generated).
 */
import { type RowColumns, Table } from "../../model/index.ts";
import { EV_BOOK_TICKER, keyOf, nextKey, OBJ_END, posOf, readKey, readName, readSymbol } from "./fields.ts";
import { scanDecimal, scanId } from "./numbers.ts";
import { cc, type Src, skipValue, ws } from "./scan.ts";
import { DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** u s b B a A. */
const REQUIRED = 0x3f;

export function finishBookTicker(out: RowColumns, slot: number, recvTimeUs: number): void {
  out.kind[slot] = Table.quotes;
  out.first_id[slot] = 0;
  out.last_id[slot] = 0;
  out.trade_time_us[slot] = 0;
  out.event_time_us[slot] = recvTimeUs;
  out.recv_time_us[slot] = recvTimeUs;
  out.flags[slot] = 0;
}

/** Any valid bookTicker object at `pos` ('{'): position after '}' with the row written, or -status. */
export function decodeBookTickerObject(
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recvTimeUs: number,
): number {
  let p = ws(f, pos + 1, end);
  if (p >= end) return -S.TRUNCATED;
  let seen = 0;
  if (cc(f, p) === 0x7d) return -S.MISSING_FIELD;
  // Bounded: every iteration consumes at least one key and one value of a finite frame.
  for (;;) {
    const k = readKey(f, p, end);
    if (k < 0) return k;
    p = posOf(k);
    let r: number;
    let bit = 0;
    switch (keyOf(k)) {
      case 0x75: // u
        r = scanId(f, p, end, out.id, slot);
        bit = 1;
        break;
      case 0x73: // s
        r = readSymbol(f, p, end, symbols, out.symbol_id, slot);
        bit = 2;
        break;
      case 0x62: // b
        r = scanDecimal(f, p, end, out.dec0w, slot);
        bit = 4;
        break;
      case 0x42: // B
        r = scanDecimal(f, p, end, out.dec1w, slot);
        bit = 8;
        break;
      case 0x61: // a
        r = scanDecimal(f, p, end, out.dec2w, slot);
        bit = 16;
        break;
      case 0x41: // A
        r = scanDecimal(f, p, end, out.dec3w, slot);
        bit = 32;
        break;
      case 0x65: // e: optional, must say bookTicker
        r = readName(f, p, end, false);
        if (r >= 0 && keyOf(r) !== EV_BOOK_TICKER) return -S.UNKNOWN_EVENT;
        r = r < 0 ? r : posOf(r);
        bit = 64;
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
  if ((seen & REQUIRED) !== REQUIRED) return -S.MISSING_FIELD;
  finishBookTicker(out, slot, recvTimeUs);
  return p + 1;
}
