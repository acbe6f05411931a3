import { describe, expect, test } from "bun:test";
import { Table } from "../model/tables.ts";
import { Seq, Sequencer } from "./sequencer.ts";

describe("Sequencer", () => {
  test("first id, consecutive ids, duplicates and gaps per (table, symbol)", () => {
    const s = new Sequencer();
    expect(s.check(Table.trades, 0, 100)).toBe(Seq.FIRST);
    expect(s.check(Table.trades, 0, 101)).toBe(Seq.NEW);
    expect(s.check(Table.trades, 0, 101)).toBe(Seq.DUPLICATE);
    expect(s.check(Table.trades, 0, 50)).toBe(Seq.DUPLICATE);
    expect(s.check(Table.trades, 0, 105)).toBe(Seq.GAP);
    expect([s.gapFrom, s.gapTo]).toEqual([102, 104]);
    expect(s.check(Table.trades, 0, 106)).toBe(Seq.NEW);
    // Another symbol and another table are independent.
    expect(s.check(Table.trades, 1, 7)).toBe(Seq.FIRST);
    expect(s.check(Table.agg_trades, 0, 3)).toBe(Seq.FIRST);
    expect(s.check(Table.agg_trades, 0, 5)).toBe(Seq.GAP);
    expect([s.gapFrom, s.gapTo]).toEqual([4, 4]);
    expect(s.duplicates).toBe(2);
    expect(s.gaps).toBe(2);
  });

  test("quotes are checked for duplicates, never for gaps", () => {
    const s = new Sequencer();
    s.check(Table.quotes, 2, 1000);
    expect(s.check(Table.quotes, 2, 5000)).toBe(Seq.NEW);
    expect(s.check(Table.quotes, 2, 4999)).toBe(Seq.DUPLICATE);
  });

  test("seed makes the first live id after a restart reveal the gap", () => {
    const s = new Sequencer();
    s.seed(Table.trades, 0, 500);
    expect(s.check(Table.trades, 0, 510)).toBe(Seq.GAP);
    expect([s.gapFrom, s.gapTo]).toEqual([501, 509]);
    expect(s.gapAfterRestart).toBe(true);
    s.seed(Table.trades, 0, 10); // a lower seed never moves the last id back
    expect(s.last(Table.trades, 0)).toBe(510);
    // Later gaps of the same run are the stream's.
    expect(s.check(Table.trades, 0, 515)).toBe(Seq.GAP);
    expect(s.gapAfterRestart).toBe(false);
  });

  test("the restart gap survives the overlap's duplicates and ends at the first new id", () => {
    const s = new Sequencer();
    s.seed(Table.trades, 0, 500);
    expect(s.check(Table.trades, 0, 499)).toBe(Seq.DUPLICATE); // already stored by the last run
    expect(s.check(Table.trades, 0, 501)).toBe(Seq.NEW); // no downtime gap at all
    expect(s.check(Table.trades, 0, 505)).toBe(Seq.GAP);
    expect(s.gapAfterRestart).toBe(false);
  });

  test("ids near 2^53 stay exact", () => {
    const s = new Sequencer();
    const big = 2 ** 53 - 10;
    s.check(Table.trades, 0, big);
    expect(s.check(Table.trades, 0, big + 1)).toBe(Seq.NEW);
    expect(s.check(Table.trades, 0, big + 3)).toBe(Seq.GAP);
    expect(s.gapFrom).toBe(big + 2);
  });
});
