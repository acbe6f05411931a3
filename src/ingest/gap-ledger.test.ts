import { describe, expect, test } from "bun:test";
import { GapLedger } from "./gap-ledger.ts";

describe("GapLedger", () => {
  test("resolve tiles a gap into one entry per outcome, and id counts follow", () => {
    const l = new GapLedger();
    const g = l.open("trades", "BTCUSDT", 100, 200, "stream", 1);
    expect(l.idCounts.pending).toBe(101);
    l.set(g, "repairing", 2);
    expect(l.counts.repairing).toBe(1);
    l.resolve(
      g,
      [
        { from: 100, to: 149, state: "missing_at_source", detail: "x" },
        { from: 150, to: 200, state: "repaired", detail: "y" },
      ],
      3,
    );
    expect(l.entries().map((e) => [e.from_id, e.to_id, e.state])).toEqual([
      [100, 149, "missing_at_source"],
      [150, 200, "repaired"],
    ]);
    expect(l.idCounts).toEqual({
      pending: 0,
      repairing: 0,
      repaired: 51,
      missing_at_source: 50,
      unrepaired: 0,
    });
    expect(l.counts.repaired + l.counts.missing_at_source).toBe(2);
    expect(l.openEntries()).toHaveLength(0);
    expect(l.entries({ state: "repaired" })[0]?.detected_at_us).toBe(1);
  });

  test("is bounded and counts evictions", () => {
    const l = new GapLedger(3);
    for (let i = 0; i < 5; i++) l.open("trades", "ETHUSDT", i * 10, i * 10 + 1, "stream", i);
    expect(l.entries()).toHaveLength(3);
    expect(l.evicted).toBe(2);
    expect(l.counts.pending).toBe(3);
    expect(l.idCounts.pending).toBe(6);
    expect(l.entries()[0]?.from_id).toBe(20);
  });

  test("filters by symbol, table and state", () => {
    const l = new GapLedger();
    l.open("trades", "A1", 1, 2, "stream", 0);
    l.open("agg_trades", "A1", 1, 2, "stream", 0);
    l.open("trades", "B2", 1, 2, "restart", 0);
    expect(l.entries({ symbol: "A1" })).toHaveLength(2);
    expect(l.entries({ table: "trades" })).toHaveLength(2);
    expect(l.entries({ symbol: "A1", table: "agg_trades" })).toHaveLength(1);
    expect(l.entries({ state: "repaired" })).toHaveLength(0);
  });
});

test("refuseOversized: a gap wider than the limit is marked unrepaired and kept from the repairer", () => {
  const ledger = new GapLedger(8);
  const wide = ledger.open("trades", "BTCUSDT", 1, 11, "stream", 5);
  expect(ledger.refuseOversized(wide, 10, 7)).toBe(true);
  expect(wide).toMatchObject({
    state: "unrepaired",
    updated_at_us: 7,
    detail: "gap of 11 ids exceeds K2_GAP_MAX_IDS=10",
  });
  const fits = ledger.open("trades", "BTCUSDT", 20, 29, "stream", 5);
  expect(ledger.refuseOversized(fits, 10, 7)).toBe(false);
  expect(fits.state).toBe("pending");
});
