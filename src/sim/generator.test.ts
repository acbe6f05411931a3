import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatDecimal } from "../model/decimal.ts";
import { SymbolGenerator, type TickBatch } from "./generator.ts";
import { expandRanges, RangeSet } from "./ground-truth.ts";
import { formatScaled, profileFor } from "./market.ts";

const CFG = {
  seed: 7,
  startTradeId: 500,
  startAggId: 50,
  startUpdateId: 9,
  ratePerSec: 1000,
  historyLimit: 10_000,
};
const START_US = 1_672_515_782_136_000;
const batch = (): TickBatch => ({ trades: [], aggs: [], books: [], klines: [] });

/** Advance in `steps` ticks of `stepMs`; returns everything the sockets would have been given. */
function run(gen: SymbolGenerator, steps: number, stepMs: number): TickBatch {
  const all = batch();
  for (let i = 1; i <= steps; i++) gen.advance(START_US + i * stepMs * 1000, 1_000_000, all);
  return all;
}

describe("SymbolGenerator", () => {
  test("same seed → identical history regardless of tick size; other seed differs", () => {
    const a = run(new SymbolGenerator("BTCUSDT", CFG, START_US), 100, 10);
    const b = run(new SymbolGenerator("BTCUSDT", CFG, START_US), 10, 100);
    const c = run(new SymbolGenerator("BTCUSDT", { ...CFG, seed: 8 }, START_US), 10, 100);
    expect(a.trades.length).toBeGreaterThanOrEqual(1000);
    const n = Math.min(a.trades.length, b.trades.length);
    expect(a.trades.slice(0, n)).toEqual(b.trades.slice(0, n));
    expect(c.trades.slice(0, 50).map((t) => t.priceScaled)).not.toEqual(
      a.trades.slice(0, 50).map((t) => t.priceScaled),
    );
  });

  test("contiguous trade ids from startTradeId; aggTrades' f..l tile them; times from the schedule", () => {
    const out = run(new SymbolGenerator("ETHUSDT", CFG, START_US), 20, 50);
    out.trades.forEach((t, i) => {
      expect(t.id).toBe(500 + i);
    });
    let expectFirst = 500;
    out.aggs.forEach((a, i) => {
      expect(a.aggId).toBe(50 + i);
      expect(a.firstId).toBe(expectFirst);
      expect(a.lastId).toBeGreaterThanOrEqual(a.firstId);
      const members = out.trades.filter((t) => t.id >= a.firstId && t.id <= a.lastId);
      expect(members.every((t) => t.priceScaled === a.priceScaled && t.timeUs === a.timeUs)).toBe(true);
      expect(members.reduce((s, t) => s + t.qtyScaled, 0)).toBe(a.qtyScaled);
      expectFirst = a.lastId + 1;
    });
    expect(out.trades[0]!.timeUs).toBe(START_US);
    for (let i = 1; i < out.trades.length; i++)
      expect(out.trades[i]!.timeUs).toBeGreaterThanOrEqual(out.trades[i - 1]!.timeUs);
    for (let i = 1; i < out.books.length; i++)
      expect(out.books[i]!.updateId).toBeGreaterThan(out.books[i - 1]!.updateId);
    for (const b of out.books) expect(b.askScaled).toBeGreaterThan(b.bidScaled);
  });

  test("rate: about rate × elapsed trades, bounded per tick", () => {
    const gen = new SymbolGenerator("BTCUSDT", CFG, START_US);
    const out = batch();
    gen.advance(START_US + 1_000_000, 100, out);
    expect(out.trades.length).toBeGreaterThanOrEqual(100);
    expect(out.trades.length).toBeLessThan(104);
    gen.advance(START_US + 1_000_000, 1_000_000, out);
    expect(out.trades.length).toBeGreaterThanOrEqual(1000);
    expect(out.trades.length).toBeLessThan(1004);
  });

  test("skip withholds whole aggTrades from sockets but keeps them in history and ground truth", () => {
    const gen = new SymbolGenerator("BTCUSDT", CFG, START_US);
    run(gen, 1, 10);
    gen.skip(5);
    const out = batch();
    gen.advance(START_US + 100_000, 1_000_000, out);
    const withheld = expandRanges(gen.truth.withheldTrades.ranges);
    expect(withheld.length).toBeGreaterThanOrEqual(5);
    expect(out.trades.some((t) => withheld.includes(t.id))).toBe(false);
    expect(gen.history.tradesFrom(withheld[0]!, withheld.length).map((t) => t.id)).toEqual(withheld);
    expect(gen.truth.withheldAggs.count).toBeGreaterThan(0);
  });

  test("lose consumes ids that exist nowhere", () => {
    const gen = new SymbolGenerator("BTCUSDT", CFG, START_US);
    run(gen, 1, 10);
    const before = gen.lastTradeId();
    gen.lose(7);
    const out = batch();
    gen.advance(START_US + 100_000, 1_000_000, out);
    expect(gen.truth.missingAtSource.ranges).toEqual([[before + 1, before + 7]]);
    expect(out.trades[0]!.id).toBe(before + 8);
    expect(gen.history.tradesFrom(before + 1, 1)[0]!.id).toBe(before + 8);
    expect(gen.truth.trades.has(before + 3)).toBe(false);
    expect(gen.truth.trades.has(before + 8)).toBe(true);
  });

  test("bounded history: REST keeps the newest historyLimit trades", () => {
    const gen = new SymbolGenerator("BTCUSDT", { ...CFG, historyLimit: 100 }, START_US);
    run(gen, 1, 1000);
    const last = gen.lastTradeId();
    expect(gen.history.oldestTradeId()).toBe(last - 99);
    expect(gen.history.tradesFrom(0, 1000).length).toBe(100);
    expect(gen.history.tradesFrom(null, 10).map((t) => t.id)).toEqual(expandRanges([[last - 9, last]]));
  });
});

test("history storage grows past its initial size and then wraps at historyLimit", () => {
  const gen = new SymbolGenerator("BTCUSDT", { ...CFG, historyLimit: 3000, ratePerSec: 10_000 }, START_US);
  run(gen, 10, 100);
  const last = gen.lastTradeId();
  expect(last - CFG.startTradeId + 1).toBeGreaterThanOrEqual(10_000);
  expect(gen.history.oldestTradeId()).toBe(last - 2999);
  const page = gen.history.tradesFrom(last - 2999, 1000).map((t) => t.id);
  expect(page).toEqual(expandRanges([[last - 2999, last - 2000]]));
  const aggs = gen.history.aggsFrom(null, 1000);
  for (let i = 1; i < aggs.length; i++) expect(aggs[i]!.firstId).toBe(aggs[i - 1]!.lastId + 1);
});

describe("market shapes", () => {
  test("prices span tiny to large with realistic ticks", () => {
    expect(formatScaled(profileFor("BTCUSDT").initialTicks * profileFor("BTCUSDT").tickScaled)).toBe(
      "65000.01000000",
    );
    const shapes = ["PEPEUSDT", "SHIBUSDT", "DOGEUSDT", "XRPUSDT", "ADAUSDT", "ETHBTC", "LINKUSDT"].map(
      profileFor,
    );
    for (const p of shapes) {
      expect(p.tickScaled).toBeGreaterThanOrEqual(1);
      expect(p.initialTicks).toBeGreaterThan(100);
    }
    expect(profileFor("ETHBTC").quoteAsset).toBe("BTC");
    const pepe = profileFor("PEPEUSDT");
    expect(formatScaled(pepe.initialTicks * pepe.tickScaled)).toBe("0.00001234");
    expect(formatScaled(pepe.tickScaled)).toBe("0.00000001");
  });

  test("formatScaled agrees with model formatDecimal (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (n) => formatScaled(n) === formatDecimal(BigInt(n)),
      ),
    );
  });
});

test("RangeSet merges adjacent ids and answers membership", () => {
  const r = new RangeSet();
  r.add(1);
  r.add(2);
  r.addRange(3, 5);
  r.addRange(9, 9);
  expect(r.toJSON()).toEqual([
    [1, 5],
    [9, 9],
  ]);
  expect(r.count).toBe(6);
  expect([0, 1, 5, 6, 9, 10].map((i) => r.has(i))).toEqual([false, true, true, false, true, false]);
});
