/**
 * The simulator's book (book mode) without sockets: update ids, the level cap, the ground truth's
 * rebuild against the live book captured at every update id, the trades as fills against the
 * book, and the trade-only mode's output unchanged for the same seed.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { SymbolBook } from "./book.ts";
import { aggJson, bookJson, tradeJson } from "./frames.ts";
import { type BookTickerRecord, SymbolGenerator, type TickBatch } from "./generator.ts";
import { DEFAULT_SIM_OPTIONS } from "./options.ts";
import { createRng } from "./rng.ts";

const START_US = 1_700_000_000_000_000;
const batch = (): TickBatch => ({ trades: [], aggs: [], books: [], klines: [] });
const live = (b: SymbolBook) => ({ bids: b.bids.toPairs(), asks: b.asks.toPairs() });
const flat = (levels: Array<[number, number]>) => levels.flat();

describe("SymbolBook", () => {
  test("one update id per event that changed something; a full side evicts its worst level", () => {
    const b = new SymbolBook("X", 100, START_US, { maxLevels: 10, ordersPerTrade: 0, truthMs: 60_000 });
    for (let i = 1; i <= 10; i++) b.seedLevel(true, i * 10, 5);
    b.seal();
    const quotes: BookTickerRecord[] = [];
    expect(b.commit(START_US, quotes)).toBe(false); // nothing staged: no id used
    expect(b.setLevel(true, 5, 7)).toBe(false); // worse than the worst of a full side: refused
    expect(b.commit(START_US, quotes)).toBe(false);
    expect(b.setLevel(true, 105, 3)).toBe(true); // better: the worst (10) goes
    expect(b.setLevel(true, 50, 0)).toBe(true); // and a removal in the same event
    expect(b.commit(START_US + 1, quotes)).toBe(true);
    expect(b.updateId).toBe(101);
    expect(b.bids.count).toBe(9);
    expect(b.bids.toPairs()).toEqual([105, 3, 100, 5, 90, 5, 80, 5, 70, 5, 60, 5, 40, 5, 30, 5, 20, 5]);
    expect(b.truth.bookAt("X", { updateId: 100 })!.bids.map((l) => l[0])).toContain(10);
    expect(b.truth.bookAt("X", { updateId: 101 })!.bids.map((l) => l[0])).not.toContain(10);
  });

  test("bookAt equals the live book captured at every update id, by id and by time, across checkpoints", () => {
    const b = new SymbolBook("X", 5000, START_US, { maxLevels: 50, ordersPerTrade: 0, truthMs: 3_600_000 });
    const rng = createRng(3);
    for (let i = 0; i < 20; i++) {
      b.seedLevel(true, 1000 - i, 1 + rng.int(9));
      b.seedLevel(false, 1001 + i, 1 + rng.int(9));
    }
    b.seal();
    const seen = new Map<number, { bids: number[]; asks: number[]; timeUs: number }>();
    seen.set(b.updateId, { ...live(b), timeUs: START_US });
    let t = START_US;
    const quotes: BookTickerRecord[] = [];
    for (let e = 0; e < 3000; e++) {
      if (rng.next() < 0.3) t += rng.int(5); // several events may share a time
      for (let k = 1 + rng.int(3); k > 0; k--) {
        const isBid = rng.next() < 0.5;
        const price = isBid ? 960 + rng.int(40) : 1001 + rng.int(40);
        b.setLevel(isBid, price, rng.next() < 0.3 ? 0 : 1 + rng.int(9));
      }
      if (b.commit(t, quotes)) seen.set(b.updateId, { ...live(b), timeUs: t });
    }
    expect(b.updateId - 5000).toBeGreaterThan(2500); // spans several 1024-event segments
    for (const [id, want] of seen) {
      const got = b.truth.bookAt("X", { updateId: id })!;
      expect({ id, bids: flat(got.bids), asks: flat(got.asks), t: got.timeUs }).toEqual({
        id,
        bids: want.bids,
        asks: want.asks,
        t: want.timeUs,
      });
    }
    // By time: the last event made at or before it.
    const ids = [...seen.keys()];
    for (let i = 0; i < 200; i++) {
      const q = START_US + rng.int(t - START_US + 1);
      const last = ids.filter((id) => seen.get(id)!.timeUs <= q).at(-1)!;
      expect(b.truth.bookAt("X", { timeUs: q })!.updateId).toBe(last);
    }
    expect(b.truth.bookAt("X", { updateId: 4999 })).toBeNull();
    expect(b.truth.bookAt("X", { updateId: b.updateId + 1 })).toBeNull();
    expect(b.truth.bookAt("X", { timeUs: START_US - 1 })).toBeNull();
    expect(b.truth.bookAt("X", { updateId: b.updateId }, 3)!.bids.length).toBe(3);
  });

  test("bounded: older than the retention is forgotten (bookAt null), the recent past stays exact", () => {
    const b = new SymbolBook("X", 0, START_US, { maxLevels: 20, ordersPerTrade: 0, truthMs: 1000 });
    b.seedLevel(true, 10, 1);
    b.seal();
    const q: BookTickerRecord[] = [];
    for (let e = 1; e <= 5000; e++) {
      b.setLevel(true, 10, 1 + (e % 7));
      b.commit(START_US + e * 1000, q); // one event per ms: 5 s in all
    }
    const r = b.truth.range();
    expect(r.oldestTimeUs).toBeGreaterThan(START_US + 2_900_000);
    expect(r.oldestTimeUs).toBeLessThanOrEqual(START_US + 4_000_000);
    expect(b.truth.bookAt("X", { updateId: 100 })).toBeNull();
    expect(b.truth.bookAt("X", { updateId: 4500 })!.bids).toEqual([[10, 1 + (4500 % 7)]]);
  });
});

describe("SymbolGenerator in book mode", () => {
  const CFG = { ...DEFAULT_SIM_OPTIONS, seed: 11, ratePerSec: 200, books: true };

  function run(cfg = CFG, seconds = 20): { g: SymbolGenerator; out: TickBatch } {
    const g = new SymbolGenerator("BTCUSDT", cfg, START_US);
    const out = batch();
    for (let ms = 20; ms <= seconds * 1000; ms += 20) g.advance(START_US + ms * 1000, 100_000, out);
    return { g, out };
  }

  test("every trade fills a level the book held, on the side the taker hit, by exactly the traded quantity", () => {
    const { g, out } = run();
    const truth = g.book!.truth;
    expect(out.aggs.length).toBeGreaterThan(1000);
    for (const a of out.aggs) {
      const after = truth.bookAt("BTCUSDT", { timeUs: a.timeUs })!; // the taker is the last change at its time
      const before = truth.bookAt("BTCUSDT", { updateId: after.updateId - 1 })!;
      const side = (x: typeof after) => new Map(a.buyerMaker ? x.bids : x.asks);
      const held = side(before).get(a.priceScaled) ?? 0;
      expect({ agg: a.aggId, held: held >= a.qtyScaled }).toEqual({ agg: a.aggId, held: true });
      expect(held - (side(after).get(a.priceScaled) ?? 0)).toBe(a.qtyScaled);
    }
    const trades = out.trades.reduce((s, t) => s + t.qtyScaled, 0);
    expect(trades).toBe(out.aggs.reduce((s, a) => s + a.qtyScaled, 0));
  });

  test("bookTicker is the true top of book at its update id; the book never crosses", () => {
    const { g, out } = run();
    expect(out.books.length).toBeGreaterThan(1000);
    for (const k of out.books) {
      const top = g.book!.truth.bookAt("BTCUSDT", { updateId: k.updateId }, 1)!;
      expect([k.bidScaled, k.bidQtyScaled, k.askScaled, k.askQtyScaled]).toEqual([
        ...top.bids[0]!,
        ...top.asks[0]!,
      ]);
      expect(k.bidScaled).toBeLessThan(k.askScaled);
    }
    const ids = out.books.map((k) => k.updateId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  test("deterministic by seed; a level cap holds", () => {
    const a = run(CFG, 5).out;
    const b = run(CFG, 5).out;
    expect(b.trades).toEqual(a.trades);
    expect(b.books).toEqual(a.books);
    expect(run({ ...CFG, seed: 12 }, 5).out.trades).not.toEqual(a.trades);
    const { g } = run({ ...CFG, bookMaxLevels: 12, bookOrdersPerTrade: 30 }, 5);
    const r = g.book!.truth.range();
    for (let id = r.oldestUpdateId; id <= g.book!.updateId; id += 7) {
      const bk = g.book!.truth.bookAt("BTCUSDT", { updateId: id })!;
      expect(Math.max(bk.bids.length, bk.asks.length)).toBeLessThanOrEqual(12);
    }
  });

  test("trade-only mode: the same frames as main (d907ae6) for the same seed", () => {
    // Digests recorded on main at d907ae6 (before book mode existed): seed 7, 1000 trades/s, 5 s.
    const want: Record<string, [number, number, string]> = {
      BTCUSDT: [5000, 3080, "3a155dc7a669924c3c59ddd01f256b0783b48882fa731de11b28272751571b22"],
      PEPEUSDT: [5000, 3088, "361631b60406bfd3bbbb77f53e0ea5fc711fb1ae7d4c221f314965e223a1dad1"],
    };
    for (const symbol of Object.keys(want)) {
      const g = new SymbolGenerator(symbol, { ...DEFAULT_SIM_OPTIONS, seed: 7, ratePerSec: 1000 }, START_US);
      expect(g.book).toBeNull();
      const b = batch();
      g.advance(START_US + 5_000_000, 1_000_000, b);
      const h = createHash("sha256");
      for (const t of b.trades) h.update(`${tradeJson(symbol, t, false)}\n`);
      for (const a of b.aggs) h.update(`${aggJson(symbol, a, false)}\n`);
      for (const k of b.books) h.update(`${bookJson(symbol, k)}\n`);
      expect([b.trades.length, b.aggs.length, h.digest("hex")]).toEqual(want[symbol]!);
    }
  });
});
