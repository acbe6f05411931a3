import { describe, expect, test } from "bun:test";
import { allocRowColumns, FLAG_BUYER_MAKER, SymbolTable, Table } from "../../model/index.ts";
import { decodeFrame } from "./dispatch.ts";
import { DecodeStatus as S } from "./status.ts";
import { SymbolLookup } from "./symbol-lookup.ts";

const symbols = new SymbolLookup(new SymbolTable(["BTCUSDT", "BNBBTC"]));
const TRADE =
  '{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"16500.01000000","q":"0.00100000","T":1672515782135,"m":false,"M":true}';

describe("decodeFrame", () => {
  test("fast path and generic path write the same row", () => {
    const a = allocRowColumns(1);
    const b = allocRowColumns(1);
    expect(decodeFrame(TRADE, symbols, a, 0, 9, false)).toBe(S.OK);
    expect(decodeFrame(TRADE.replaceAll(",", " , "), symbols, b, 0, 9, false)).toBe(S.OK);
    expect([a.kind[0], a.id[0], a.dec0[0], a.dec1[0], a.trade_time_us[0], a.flags[0]]).toEqual([
      Table.trades,
      12345,
      1_650_001_000_000n,
      100_000n,
      1_672_515_782_135_000,
      0,
    ]);
    expect(Array.from(new Uint8Array(b.dec0.buffer))).toEqual(Array.from(new Uint8Array(a.dec0.buffer)));
    expect([b.id[0], b.event_time_us[0], b.flags[0], b.symbol_id[0]]).toEqual([
      a.id[0],
      a.event_time_us[0],
      0,
      0,
    ]);
  });
  test("m:true sets FLAG_BUYER_MAKER (aggressor SELL)", () => {
    const out = allocRowColumns(1);
    expect(decodeFrame(TRADE.replace('"m":false', '"m":true'), symbols, out, 0, 9, false)).toBe(S.OK);
    expect(out.flags[0]).toBe(FLAG_BUYER_MAKER);
  });
  test("status precedence: UTF-8 before syntax before semantics", () => {
    const out = allocRowColumns(1);
    const bad = new TextEncoder().encode(TRADE.replace('"p":"16500.01000000"', '"p":"x\u00ff"'));
    bad[bad.indexOf(0xc3)] = 0xff; // make the é an invalid byte
    expect(decodeFrame(bad, symbols, out, 0, 9, false)).toBe(S.BAD_UTF8);
    expect(
      decodeFrame(TRADE.replace('"p":"16500.01000000"', '"p":-1').slice(0, -3), symbols, out, 0, 9, false),
    ).toBe(S.TRUNCATED);
    expect(decodeFrame(TRADE.replace('"p":"16500.01000000"', '"p":-1'), symbols, out, 0, 9, false)).toBe(
      S.BAD_TYPE,
    );
    expect(decodeFrame(TRADE.replace(',"q":"0.00100000"', ""), symbols, out, 0, 9, false)).toBe(
      S.MISSING_FIELD,
    );
  });
});
