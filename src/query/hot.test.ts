import { describe, expect, test } from "bun:test";
import { allocRowColumns } from "../model/row.ts";
import { SymbolTable } from "../model/symbols.ts";
import { Table } from "../model/tables.ts";
import { HotWindow } from "./hot.ts";

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
