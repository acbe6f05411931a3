/**
 * `<symbol>@trade` payloads into the trades row layout (model/row.ts):
 * `{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}`
 * https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#trade-streams
 *
 * The generic decoder: any valid JSON object, any key order and whitespace, precise statuses.
 * Binance's exact layout is decoded first by fast-trade.ts (generated) (native-bench
 * "decode trade (combined)"); this runs for everything they decline.
 */
import { type RowColumns, Table } from "../../model/index.ts";
import { EV_TRADE, keyOf, nextKey, OBJ_END, posOf, readKey, readName, readSymbol } from "./fields.ts";
import { readBuyerMaker, scanDecimal, scanId, scanTime } from "./numbers.ts";
import { cc, type Src, skipValue, ws } from "./scan.ts";
import { DecodeStatus as S } from "./status.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

/** Fields a trade must carry (`M`, "ignore", is optional and skipped). */
const REQUIRED = 0xff;

export function finishTrade(out: RowColumns, slot: number, recvTimeUs: number): void {
  out.kind[slot] = Table.trades;
  out.first_id[slot] = 0;
  out.last_id[slot] = 0;
  out.recv_time_us[slot] = recvTimeUs;
  out.dec2w[2 * slot] = 0;
  out.dec2w[2 * slot + 1] = 0;
  out.dec3w[2 * slot] = 0;
  out.dec3w[2 * slot + 1] = 0;
}

/** Any valid trade object at `pos` ('{'): position after '}' with the row written, or -status. */
export function decodeTradeObject(
  f: Src,
  pos: number,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recvTimeUs: number,
  mult: number,
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
      case 0x65: // e
        r = readName(f, p, end, false);
        if (r >= 0 && keyOf(r) !== EV_TRADE) return -S.UNKNOWN_EVENT;
        r = r < 0 ? r : posOf(r);
        bit = 1;
        break;
      case 0x45: // E
        r = scanTime(f, p, end, out.event_time_us, slot, mult);
        bit = 2;
        break;
      case 0x73: // s
        r = readSymbol(f, p, end, symbols, out.symbol_id, slot);
        bit = 4;
        break;
      case 0x74: // t
        r = scanId(f, p, end, out.id, slot);
        bit = 8;
        break;
      case 0x70: // p
        r = scanDecimal(f, p, end, out.dec0w, slot);
        bit = 16;
        break;
      case 0x71: // q
        r = scanDecimal(f, p, end, out.dec1w, slot);
        bit = 32;
        break;
      case 0x54: // T
        r = scanTime(f, p, end, out.trade_time_us, slot, mult);
        bit = 64;
        break;
      case 0x6d: // m: buyer is maker → aggressor SELL
        r = readBuyerMaker(f, p, end, out.flags, slot);
        bit = 128;
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
  if (seen !== REQUIRED) return -S.MISSING_FIELD;
  finishTrade(out, slot, recvTimeUs);
  return p + 1;
}
