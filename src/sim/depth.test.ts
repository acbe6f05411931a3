/**
 * Book mode over real sockets on 127.0.0.1: the diff streams are continuous, a REST snapshot plus
 * the diffs after it (Binance's procedure, written out here with plain Maps) reproduce the true
 * book at every update id, partial depth and bookTicker are the true book, and every trade fills
 * a level the book held.
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator, type TrueBook } from "./index.ts";
import { connect, type TestClient } from "./test-client.ts";

let sim: Simulator | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

async function open(url: string): Promise<TestClient> {
  const c = await connect(url);
  clients.push(c);
  return c;
}

type Level = [string, string];
interface Diff {
  e: string;
  E: number;
  s: string;
  U: number;
  u: number;
  b: Level[];
  a: Level[];
}
interface Snapshot {
  lastUpdateId: number;
  bids: Level[];
  asks: Level[];
}

/** Frames of one stream: raw frames as they are, combined ones unwrapped. */
function framesOf<T>(c: TestClient, stream?: string): T[] {
  const out: T[] = [];
  for (const m of c.json() as Array<{ stream?: string; data?: T }>) {
    if (stream === undefined) out.push(m as T);
    else if (m.stream === stream) out.push(m.data!);
  }
  return out;
}

const DECIMAL = /^[0-9]+\.[0-9]{8}$/;
const scaled = (s: string) => Math.round(Number(s) * 1e8);
const asText = (levels: Array<[number, number]>): Level[] =>
  levels.map(([p, q]) => [(p / 1e8).toFixed(8), (q / 1e8).toFixed(8)]);

function expectContinuous(events: Diff[], what: string): void {
  expect(events.length).toBeGreaterThan(1);
  for (let i = 1; i < events.length; i++) {
    const gap = events[i]!.U - (events[i - 1]!.u + 1);
    expect({ what, i, gap }).toEqual({ what, i, gap: 0 });
  }
  for (const e of events) {
    expect(e.U).toBeLessThanOrEqual(e.u);
    for (const [p, q] of [...e.b, ...e.a]) expect(DECIMAL.test(p) && DECIMAL.test(q)).toBe(true);
  }
}

test("diff events are continuous per symbol and speed, raw and combined; partial depth is the true book", async () => {
  sim = await startSimulator({ books: true, symbols: ["BTCUSDT", "ETHUSDT"], ratePerSec: 50, tickMs: 10 });
  const s = sim;
  const raw = await open(`${s.wsUrl}/ws/btcusdt@depth@100ms`);
  const comb = await open(
    `${s.wsUrl}/stream?streams=btcusdt@depth/ethusdt@depth@100ms/btcusdt@depth5@100ms/ethusdt@depth20`,
  );
  comb.send({ method: "SUBSCRIBE", params: ["ethusdt@depth10@100ms"], id: 1 });
  await comb.until((c) => framesOf<Diff>(c, "btcusdt@depth").length >= 3, 6000, "three 1 s diffs");
  const btc100 = framesOf<Diff>(raw);
  expectContinuous(btc100, "btcusdt@depth@100ms");
  expect(btc100.every((e) => e.e === "depthUpdate" && e.s === "BTCUSDT")).toBe(true);
  expectContinuous(framesOf<Diff>(comb, "btcusdt@depth"), "btcusdt@depth");
  expectContinuous(framesOf<Diff>(comb, "ethusdt@depth@100ms"), "ethusdt@depth@100ms");
  // A 1 s event covers what the 100 ms events of that second cover: the same ids, coarser.
  const slow = framesOf<Diff>(comb, "btcusdt@depth");
  const starts = new Set(btc100.map((e) => e.U));
  const ends = new Set(btc100.map((e) => e.u));
  const inRange = slow.filter((e) => e.U >= btc100[0]!.U && e.u <= btc100.at(-1)!.u);
  expect(inRange.length).toBeGreaterThan(0);
  for (const e of inRange) expect([starts.has(e.U), ends.has(e.u)]).toEqual([true, true]);
  for (const [stream, symbol, n] of [
    ["btcusdt@depth5@100ms", "BTCUSDT", 5],
    ["ethusdt@depth20", "ETHUSDT", 20],
    ["ethusdt@depth10@100ms", "ETHUSDT", 10],
  ] as const) {
    const snaps = framesOf<Snapshot>(comb, stream);
    expect(snaps.length).toBeGreaterThan(0);
    for (const p of snaps) {
      const t = s.bookAt(symbol, { updateId: p.lastUpdateId }, n)!;
      expect({ stream, bids: p.bids, asks: p.asks }).toEqual({
        stream,
        bids: asText(t.bids),
        asks: asText(t.asks),
      });
    }
  }
});

test("REST snapshot + the diffs after it (Binance's procedure) reproduce bookAt at every update id", async () => {
  sim = await startSimulator({ books: true, symbols: ["BTCUSDT"], ratePerSec: 80, tickMs: 10 });
  const s = sim;
  const c = await open(`${s.wsUrl}/ws/btcusdt@depth@100ms`);
  // 1-2: buffer events, note the first U. 3-4: snapshot, again while it is older than that U.
  await c.until((x) => framesOf<Diff>(x).length >= 2, 3000, "first events");
  const firstU = framesOf<Diff>(c)[0]!.U;
  let snap: Snapshot | undefined;
  for (let attempt = 0; attempt < 5 && (snap === undefined || snap.lastUpdateId < firstU); attempt++) {
    const r = await fetch(`${s.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`);
    expect(r.status).toBe(200);
    snap = (await r.json()) as Snapshot;
  }
  expect(snap!.lastUpdateId).toBeGreaterThanOrEqual(firstU);
  expect(snap!.bids.length).toBeLessThan(5000); // the whole book: every level is known
  const bids = new Map(snap!.bids.map(([p, q]) => [scaled(p), scaled(q)]));
  const asks = new Map(snap!.asks.map(([p, q]) => [scaled(p), scaled(q)]));
  await c.until(
    (x) => framesOf<Diff>(x).at(-1)!.u > snap!.lastUpdateId + 200,
    5000,
    "200 ids past the snapshot",
  );
  // 5: drop events with u <= lastUpdateId; the first one applied has lastUpdateId within [U-1, u].
  const events = framesOf<Diff>(c).filter((e) => e.u > snap!.lastUpdateId);
  expect(events[0]!.U).toBeLessThanOrEqual(snap!.lastUpdateId + 1);
  let bookId = snap!.lastUpdateId;
  const sorted = (m: Map<number, number>, desc: boolean): Array<[number, number]> =>
    [...m.entries()].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0]));
  let compared = 0;
  for (const e of events) {
    expect(e.U <= bookId + 1).toBe(true); // 6: no gap
    for (const [side, levels] of [
      [bids, e.b],
      [asks, e.a],
    ] as const) {
      for (const [p, q] of levels) {
        if (scaled(q) === 0) side.delete(scaled(p));
        else side.set(scaled(p), scaled(q));
      }
    }
    bookId = e.u;
    const t: TrueBook = s.bookAt("BTCUSDT", { updateId: bookId })!;
    expect({ id: bookId, bids: sorted(bids, true), asks: sorted(asks, false) }).toEqual({
      id: bookId,
      bids: t.bids,
      asks: t.asks,
    });
    compared++;
    // As published: by the event's own E (whole ms) the book is at its u, just before at the previous u.
    expect(s.bookAt("BTCUSDT", { publishedUs: e.E * 1000 })!.updateId).toBe(e.u);
    expect(s.bookAt("BTCUSDT", { publishedUs: e.E * 1000 - 1 })!.updateId).toBe(e.U - 1);
  }
  expect(compared).toBeGreaterThan(5);
});

test("bookTicker is the top of the true book; every trade (µs times) filled a level the book held", async () => {
  sim = await startSimulator({ books: true, symbols: ["ETHUSDT"], ratePerSec: 60, tickMs: 10 });
  const s = sim;
  const c = await open(`${s.wsUrl}/stream?streams=ethusdt@bookTicker/ethusdt@trade&timeUnit=MICROSECOND`);
  await c.until((x) => framesOf(x, "ethusdt@trade").length >= 100, 6000, "100 trades");
  const quotes = framesOf<{ u: number; b: string; B: string; a: string; A: string }>(c, "ethusdt@bookTicker");
  expect(quotes.length).toBeGreaterThan(50);
  for (const q of quotes) {
    const top = s.bookAt("ETHUSDT", { updateId: q.u }, 1)!;
    expect([q.u, q.b, q.B, q.a, q.A]).toEqual([q.u, ...asText(top.bids)[0]!, ...asText(top.asks)[0]!]);
  }
  const trades = framesOf<{ t: number; p: string; q: string; T: number; m: boolean }>(c, "ethusdt@trade");
  // One marketable order's fills at one price share T and p: together they took exactly that much.
  const taken = new Map<string, { T: number; p: string; m: boolean; q: number }>();
  for (const t of trades) {
    const k = `${t.T}@${t.p}`;
    const g = taken.get(k) ?? { T: t.T, p: t.p, m: t.m, q: 0 };
    g.q += scaled(t.q);
    taken.set(k, g);
  }
  for (const [k, g] of taken) {
    const after = s.bookAt("ETHUSDT", { timeUs: g.T })!; // the marketable order is the last change at T
    const before = s.bookAt("ETHUSDT", { updateId: after.updateId - 1 })!;
    const level = (b: TrueBook) => new Map(g.m ? b.bids : b.asks).get(scaled(g.p)) ?? 0;
    expect({ k, held: level(before) >= g.q, took: level(before) - level(after) }).toEqual({
      k,
      held: true,
      took: g.q,
    });
  }
});
