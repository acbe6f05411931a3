import { expect, test } from "bun:test";
import { decodeRows } from "../bus/index.ts";
import { tradeFrame } from "../ingest/gap-repair.ts";
import { allocRowColumns, FLAG_BUYER_MAKER } from "../model/row.ts";
import { SymbolTable } from "../model/symbols.ts";
import { REST_MAX_LIMIT, type RestTrade } from "../source/binance/rest.ts";
import { RepairRows } from "./writer-repair.ts";

const T_MS = Date.UTC(2025, 0, 2, 12);
const trade = (id: number): RestTrade => ({
  id,
  price: "97123.45000000",
  qty: "0.00100000",
  time: T_MS + id,
  isBuyerMaker: id % 2 === 0,
});

test("REST trades become the rows a recorder publishes: exact decimals, µs times, the maker flag", () => {
  const symbols = new SymbolTable(["BTCUSDT"]);
  const rows = new RepairRows(symbols);
  for (const id of [41, 42, 43]) expect(rows.add(tradeFrame("BTCUSDT", trade(id)), 5)).toBeUndefined();
  const b = rows.take()!;
  expect(b).toMatchObject({ symbol: "BTCUSDT", firstId: 41, lastId: 43, rows: 3 });
  const out = allocRowColumns(3);
  decodeRows(b.body, "trades", out, 0, 0);
  expect([...out.id]).toEqual([41, 42, 43]);
  expect(out.dec0[0]).toBe(9_712_345_000_000n);
  expect(out.dec1[0]).toBe(100_000n);
  expect(out.trade_time_us[1]).toBe((T_MS + 42) * 1000);
  expect(out.flags[1]! & FLAG_BUYER_MAKER).toBe(FLAG_BUYER_MAKER);
  expect(out.flags[0]! & FLAG_BUYER_MAKER).toBe(0);
  expect(rows.take()).toBeUndefined();
});

test("a batch is at most one REST page and one symbol; a symbol interned after the start is decoded", () => {
  const symbols = new SymbolTable(["BTCUSDT"]);
  const rows = new RepairRows(symbols);
  const batches = [];
  for (let id = 1; id <= REST_MAX_LIMIT + 5; id++) {
    const b = rows.add(tradeFrame("BTCUSDT", trade(id)), 5);
    if (b) batches.push(b);
  }
  expect(batches.map((b) => [b.firstId, b.lastId])).toEqual([[1, REST_MAX_LIMIT]]);
  // The writer interns a symbol when its first bus message comes: the lookup follows.
  symbols.intern("ETHUSDT");
  const cut = rows.add(tradeFrame("ETHUSDT", trade(7)), 5)!;
  expect(cut).toMatchObject({
    symbol: "BTCUSDT",
    firstId: REST_MAX_LIMIT + 1,
    lastId: REST_MAX_LIMIT + 5,
    rows: 5,
  });
  expect(rows.take()).toMatchObject({ symbol: "ETHUSDT", firstId: 7, lastId: 7, rows: 1 });
  expect(rows.refused).toBe(0);
  // A frame the decoder refuses is counted, never published.
  expect(rows.add('{"e":"trade","s":"BTCUSDT"}', 5)).toBeUndefined();
  expect(rows.refused).toBe(1);
  expect(rows.take()).toBeUndefined();
});
