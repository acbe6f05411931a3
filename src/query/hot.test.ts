import { describe, expect, test } from "bun:test";
import { allocRowColumns, FLAG_BUYER_MAKER } from "../model/row.ts";
import { SymbolTable } from "../model/symbols.ts";
import { TABLE_COLUMNS, Table, type TableName } from "../model/tables.ts";
import { HotWindow, hotValue } from "./hot.ts";

function window(capacity: number, rows: [id: number, timeUs: number][]) {
  const w = new HotWindow(new SymbolTable(["BTCUSDT"]), { rowsPerSymbol: capacity });
  const cols = allocRowColumns(rows.length);
  rows.forEach(([id, t], i) => {
    cols.kind[i] = Table.trades;
    cols.symbol_id[i] = 0;
    cols.id[i] = id;
    cols.trade_time_us[i] = t;
  });
  for (let i = 0; i < rows.length; i++) w.append(cols, i);
  return w.ring("trades", "BTCUSDT")!;
}

describe("HotRing completeness and time order", () => {
  test("complete from the start of the newest run of consecutive ids", () => {
    const r = window(100, [
      [10, 1],
      [11, 2],
      [15, 3], // a gap 12..14: a repair may add them to files, never to the ring
      [16, 4],
      [17, 5],
    ]);
    expect([r.runStartId, r.completeFromId, r.newestId]).toEqual([15, 15, 17]);
  });

  test("eviction raises the complete-from id to the oldest id held", () => {
    const r = window(3, [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    expect([r.runStartId, r.completeFromId, r.evictedMaxId]).toEqual([1, 3, 2]);
  });

  test("duplicates are refused and do not break a run", () => {
    const r = window(10, [
      [1, 1],
      [2, 2],
      [2, 2],
      [3, 3],
    ]);
    expect([r.refused, r.completeFromId, r.size]).toEqual([1, 1, 3]);
  });

  test("time bisect while times ascend; a time going back turns it off", () => {
    const r = window(10, [
      [1, 100],
      [2, 200],
      [3, 200],
      [4, 300],
    ]);
    expect(r.timeSorted).toBe(true);
    expect([
      r.firstAtOrAfterTime(0),
      r.firstAtOrAfterTime(200),
      r.firstAtOrAfterTime(201),
      r.firstAtOrAfterTime(999),
    ]).toEqual([0, 1, 3, 4]);
    const s = window(10, [
      [1, 100],
      [2, 90],
    ]);
    expect(s.timeSorted).toBe(false);
  });
});

describe("HotRing columns per table", () => {
  const names = (t: TableName) => TABLE_COLUMNS[t].map((c) => c.name);

  test("each table keeps every stored column's value, and reserves only the columns it has", () => {
    const w = new HotWindow(new SymbolTable(["BTCUSDT"]), { rowsPerSymbol: 1000 });
    const cols = allocRowColumns(3);
    const kinds = [Table.trades, Table.agg_trades, Table.quotes] as const;
    kinds.forEach((kind, i) => {
      cols.kind[i] = kind;
      cols.symbol_id[i] = 0;
      cols.id[i] = 100 + i;
      cols.first_id[i] = 40 + i;
      cols.last_id[i] = 60 + i;
      cols.trade_time_us[i] = 1_000 + i;
      cols.event_time_us[i] = 2_000 + i;
      cols.recv_time_us[i] = 3_000 + i;
      cols.dec0[i] = 11n;
      cols.dec1[i] = 22n;
      cols.dec2[i] = 33n;
      cols.dec3[i] = 44n;
      cols.flags[i] = FLAG_BUYER_MAKER;
      w.append(cols, i);
    });
    const row = (t: TableName) => {
      const r = w.ring(t, "BTCUSDT")!;
      return Object.fromEntries(names(t).map((n) => [n, hotValue(t, "BTCUSDT", r, r.at(0), n)]));
    };
    expect(row("trades")).toMatchObject({
      trade_id: 100,
      price: 11n,
      quantity: 22n,
      side: "SELL",
      is_buyer_maker: true,
      trade_time_us: 1_000,
      event_time_us: 2_000,
      recv_time_us: 3_000,
    });
    expect(row("agg_trades")).toMatchObject({
      agg_trade_id: 101,
      first_trade_id: 41,
      last_trade_id: 61,
      side: "SELL",
      trade_time_us: 1_001,
      event_time_us: 2_001,
    });
    expect(row("quotes")).toMatchObject({
      update_id: 102,
      bid_price: 11n,
      bid_quantity: 22n,
      ask_price: 33n,
      ask_quantity: 44n,
      event_time_us: 2_002,
      recv_time_us: 3_002,
    });
    // Quotes are ordered on their event time.
    expect(w.ring("quotes", "BTCUSDT")!.newestTimeUs).toBe(2_002);
    const perRow = (t: TableName) => w.ring(t, "BTCUSDT")!.reservedBytes / 1000;
    expect([perRow("trades"), perRow("agg_trades"), perRow("quotes")]).toEqual([49, 65, 56]);
    // One row of 1,000 written: a thousandth of the reservation.
    expect(w.ring("trades", "BTCUSDT")!.filledBytes).toBe(49);
  });
});
