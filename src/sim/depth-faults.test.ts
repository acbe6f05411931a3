/**
 * Book mode's fault switches and REST accounting over real sockets: a skipped diff event, the
 * snapshot answered 429/418, a stale snapshot, a slow one, depth weights in the per-IP budget,
 * the admin endpoint for the true book, and book mode's absence refused clearly.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type SimOptionsInput, type Simulator, startSimulator } from "./index.ts";
import { connect, type TestClient, waitFor } from "./test-client.ts";

let sim: Simulator | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await sim?.stop();
  sim = undefined;
});

async function start(o: SimOptionsInput = {}): Promise<Simulator> {
  sim = await startSimulator({
    books: true,
    symbols: ["BTCUSDT", "ETHUSDT"],
    ratePerSec: 60,
    tickMs: 10,
    ...o,
  });
  return sim;
}
const depth = (limit?: number, symbol = "BTCUSDT") =>
  fetch(`${sim!.restUrl}/api/v3/depth?symbol=${symbol}${limit === undefined ? "" : `&limit=${limit}`}`);
const weight = (r: Response) => Number(r.headers.get("X-MBX-USED-WEIGHT-1M"));

interface Diff {
  U: number;
  u: number;
  E: number;
}
function diffs(c: TestClient, stream: string): Diff[] {
  return (c.json() as Array<{ stream: string; data: Diff }>)
    .filter((m) => m.stream === stream)
    .map((m) => m.data);
}
/** [first, last] update ids missing between consecutive events. */
function gaps(events: Diff[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.U !== events[i - 1]!.u + 1) out.push([events[i - 1]!.u + 1, events[i]!.U - 1]);
  }
  return out;
}

describe("depth faults", () => {
  test("skipDepthUpdates: one event dropped per speed for that symbol; the gap is in the ground truth", async () => {
    const s = await start();
    client = await connect(`${s.wsUrl}/stream?streams=btcusdt@depth@100ms/btcusdt@depth/ethusdt@depth@100ms`);
    await client.until((c) => diffs(c, "btcusdt@depth").length >= 1, 3000, "a 1 s event");
    s.faults.skipDepthUpdates(1, "BTCUSDT");
    const seen = diffs(client, "btcusdt@depth").length;
    await client.until((c) => diffs(c, "btcusdt@depth").length >= seen + 2, 5000, "two more 1 s events");
    const truth = s.groundTruth().symbols.BTCUSDT!.book!;
    for (const speed of ["100ms", "1000ms"] as const) {
      const events = diffs(client, speed === "100ms" ? "btcusdt@depth@100ms" : "btcusdt@depth");
      expect({ speed, gaps: gaps(events) }).toEqual({ speed, gaps: truth.droppedDiffs[speed] });
      expect(truth.droppedDiffs[speed].length).toBe(1);
    }
    expect(gaps(diffs(client, "ethusdt@depth@100ms"))).toEqual([]);
    expect(s.groundTruth().symbols.ETHUSDT!.book!.droppedDiffs["100ms"]).toEqual([]);
  });

  test("diffEventUs: each 100 ms event's E by its last update id, the dropped one's between its neighbours'", async () => {
    const s = await start();
    client = await connect(`${s.wsUrl}/stream?streams=btcusdt@depth@100ms`);
    const stream = "btcusdt@depth@100ms";
    await client.until((c) => diffs(c, stream).length >= 3, 3000, "three 100 ms events");
    s.faults.skipDepthUpdates(1, "BTCUSDT");
    const seen = diffs(client, stream).length;
    await client.until((c) => diffs(c, stream).length >= seen + 3, 3000, "three more 100 ms events");
    const events = diffs(client, stream);
    // What the socket carried: E in ms, the truth's in µs.
    expect(events.map((e) => s.diffEventUs("BTCUSDT", e.u))).toEqual(events.map((e) => e.E * 1000));
    const [[U, u]] = s.groundTruth().symbols.BTCUSDT!.book!.droppedDiffs["100ms"] as [[number, number]];
    const after = events.findIndex((e) => e.U === u + 1);
    expect(after).toBeGreaterThan(0);
    expect(events[after - 1]!.u).toBe(U - 1);
    const dropped = s.diffEventUs("BTCUSDT", u)!;
    expect(dropped).toBeGreaterThan(events[after - 1]!.E * 1000);
    expect(dropped).toBeLessThan(events[after]!.E * 1000);
    // Not an event's last id, or not a book: nothing.
    const wide = events.find((e) => e.U < e.u)!;
    expect(s.diffEventUs("BTCUSDT", wide.u - 1)).toBeNull();
    expect(s.diffEventUs("XRPUSDT", u)).toBeNull();
  });

  test("snapshotStatus 429 / 418: depth answers that with Retry-After and no weight; other endpoints do not", async () => {
    const s = await start();
    for (const status of [429, 418] as const) {
      const set = await fetch(`${s.adminUrl}/faults`, {
        method: "POST",
        body: JSON.stringify({ depth: { snapshotStatus: status } }),
      });
      expect(set.status).toBe(200);
      const r = await depth();
      expect(r.status).toBe(status);
      expect(r.headers.get("Retry-After")).toBe("1");
      expect(((await r.json()) as { code: number }).code).toBe(-1003);
      expect((await fetch(`${s.restUrl}/api/v3/ping`)).status).toBe(200);
    }
    s.faults.depth({ snapshotStatus: 0 });
    const ok = await depth();
    expect(ok.status).toBe(200);
    expect(weight(ok)).toBe(1 + 1 + 5); // two pings and this one: the faulted answers cost nothing
  });

  test("snapshotStaleEvents: lastUpdateId from before the last N diff events sent, the book as it was then", async () => {
    const s = await start();
    client = await connect(`${s.wsUrl}/stream?streams=btcusdt@depth@100ms`);
    await client.until((c) => diffs(c, "btcusdt@depth@100ms").length >= 8, 3000, "8 events");
    s.faults.pause(true); // no more events: the last ones made are the last ones received
    await Bun.sleep(300);
    s.faults.depth({ snapshotStaleEvents: 3 });
    const events = diffs(client, "btcusdt@depth@100ms");
    const snap = (await (await depth(5000)).json()) as {
      lastUpdateId: number;
      bids: string[][];
      asks: string[][];
    };
    expect(snap.lastUpdateId).toBe(events.at(-3)!.U - 1);
    expect(snap.lastUpdateId).toBeLessThan(events.at(-1)!.u); // older than diffs already sent
    const past = s.bookAt("BTCUSDT", { updateId: snap.lastUpdateId })!;
    expect(snap.bids.map(([p]) => Math.round(Number(p) * 1e8))).toEqual(past.bids.map(([p]) => p));
    expect(snap.asks.map(([, q]) => Math.round(Number(q) * 1e8))).toEqual(past.asks.map(([, q]) => q));
    s.faults.depth({ snapshotStaleEvents: 0 });
    const fresh = (await (await depth(5)).json()) as { lastUpdateId: number };
    expect(fresh.lastUpdateId).toBe(s.groundTruth().symbols.BTCUSDT!.book!.updateId);
    expect(fresh.lastUpdateId).toBeGreaterThanOrEqual(events.at(-1)!.u);
  });

  test("snapshotDelayMs: answered that much later with the book as it is then", async () => {
    const s = await start();
    client = await connect(`${s.wsUrl}/stream?streams=btcusdt@depth@100ms`);
    await client.until((c) => diffs(c, "btcusdt@depth@100ms").length >= 2, 3000, "events");
    s.faults.depth({ snapshotDelayMs: 400 });
    const lastBefore = diffs(client, "btcusdt@depth@100ms").at(-1)!.u;
    const t0 = performance.now();
    const r = await depth();
    const elapsed = performance.now() - t0;
    const snap = (await r.json()) as { lastUpdateId: number };
    expect(elapsed).toBeGreaterThanOrEqual(395);
    const during = diffs(client, "btcusdt@depth@100ms").filter((e) => e.u > lastBefore);
    expect(during.length).toBeGreaterThan(0); // diffs kept coming while the snapshot was held
    expect(snap.lastUpdateId).toBeGreaterThan(during[0]!.U);
  });
});

describe("GET /api/v3/depth", () => {
  test("weights by limit (5/25/50/250, limit cut to 5000) count in the budget: 429 with Retry-After, then 418", async () => {
    const s = await start({ restWeightLimit: 600, restStrikesBeforeBan: 1 });
    const cases: Array<[number | undefined, number, number]> = [
      [undefined, 5, 100],
      [100, 5, 100],
      [101, 25, 101],
      [500, 25, 500],
      [1000, 50, 1000],
      [5000, 250, 5000],
    ];
    let used = 0;
    for (const [limit, w] of cases) {
      const r = await depth(limit);
      used += w;
      expect({ limit, status: r.status, used: weight(r) }).toEqual({ limit, status: 200, used });
    }
    expect(used).toBe(360);
    const big = await depth(6000); // cut to 5000: weight 250 → over 600
    expect(big.status).toBe(429);
    expect(Number(big.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await depth(5)).status).toBe(429); // in back-off: a strike
    expect((await depth(5)).status).toBe(418); // past the strikes: banned
    const log = s.restLog().filter((e) => e.path.startsWith("/api/v3/depth"));
    expect(log.map((e) => e.weight)).toEqual([5, 5, 25, 25, 50, 250, 250, 5, 5]);
  });

  test("levels: bids descending, asks ascending, at most limit; errors for bad input", async () => {
    const s = await start({ faults: { paused: true } });
    const r = (await (await depth(7)).json()) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
    expect(r.bids.length).toBe(7);
    expect(r.asks.length).toBe(7);
    const px = (l: string[][]) => l.map(([p]) => Number(p));
    expect(px(r.bids)).toEqual([...px(r.bids)].sort((a, b) => b - a));
    expect(px(r.asks)).toEqual([...px(r.asks)].sort((a, b) => a - b));
    expect(px(r.bids)[0]!).toBeLessThan(px(r.asks)[0]!);
    expect(r.lastUpdateId).toBe(s.options.startUpdateId); // paused from the start: the seeded book
    for (const [q, code] of [
      ["symbol=BTCUSDT&limit=0", -1100],
      ["symbol=BTCUSDT&limit=x", -1100],
      ["symbol=NOPE1", -1121],
      ["limit=5", -1102],
    ] as const) {
      const bad = await fetch(`${s.restUrl}/api/v3/depth?${q}`);
      expect({ q, status: bad.status, code: ((await bad.json()) as { code: number }).code }).toEqual({
        q,
        status: 400,
        code,
      });
    }
  });
});

describe("book truth over admin HTTP; book mode off", () => {
  test("GET /admin/book equals bookAt; bad queries 400; outside the kept range 404", async () => {
    const s = await start();
    await waitFor(
      () => s.groundTruth().symbols.BTCUSDT!.book!.updateId > s.options.startUpdateId + 50,
      3000,
      "changes",
    );
    s.faults.pause(true);
    const id = s.options.startUpdateId + 40;
    const r = await fetch(`${s.adminUrl}/book?symbol=BTCUSDT&updateId=${id}&levels=3`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(JSON.parse(JSON.stringify(s.bookAt("BTCUSDT", { updateId: id }, 3))));
    const byTime = s.bookAt("BTCUSDT", { updateId: id })!.timeUs;
    const t = await fetch(`${s.adminUrl}/book?symbol=BTCUSDT&timeUs=${byTime}`);
    expect(((await t.json()) as { updateId: number }).updateId).toBeGreaterThanOrEqual(id);
    const pub = s.bookAt("BTCUSDT", { updateId: s.groundTruth().symbols.BTCUSDT!.book!.updateId })!.timeUs;
    expect(s.bookAt("BTCUSDT", { publishedUs: pub + 200_000 })?.updateId).toBeGreaterThan(id);
    const p = await fetch(`${s.adminUrl}/book?symbol=BTCUSDT&publishedUs=${pub + 200_000}`);
    expect(await p.json()).toEqual(
      JSON.parse(JSON.stringify(s.bookAt("BTCUSDT", { publishedUs: pub + 200_000 }))),
    );
    expect((await fetch(`${s.adminUrl}/book?symbol=BTCUSDT`)).status).toBe(400);
    expect((await fetch(`${s.adminUrl}/book?symbol=BTCUSDT&updateId=${id}&timeUs=1`)).status).toBe(400);
    expect((await fetch(`${s.adminUrl}/book?symbol=BTCUSDT&updateId=-1`)).status).toBe(400);
    expect((await fetch(`${s.adminUrl}/book?symbol=BTCUSDT&updateId=5`)).status).toBe(404);
    expect((await fetch(`${s.adminUrl}/book?symbol=NOPE&updateId=${id}`)).status).toBe(404);
    const bad = await fetch(`${s.adminUrl}/faults`, {
      method: "POST",
      body: '{"depth":{"snapshotStaleEvents":65}}',
    });
    expect(bad.status).toBe(400);
  });

  test("without books: depth streams refused at connect, /api/v3/depth 400, no book in the truth", async () => {
    const s = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 50, tickMs: 10 });
    sim = s;
    const up = await fetch(`${s.restUrl}/ws/btcusdt@depth`, { headers: { upgrade: "websocket" } });
    expect(up.status).toBe(400);
    expect(await up.text()).toContain("book mode");
    const r = await depth();
    expect(r.status).toBe(400);
    expect(((await r.json()) as { msg: string }).msg).toContain("book mode");
    expect(s.groundTruth().symbols.BTCUSDT!.book).toBeNull();
    expect(s.bookAt("BTCUSDT", { updateId: 1 })).toBeNull();
    const skip = await fetch(`${s.adminUrl}/faults`, {
      method: "POST",
      body: '{"skipDepthUpdates":{"count":1}}',
    });
    expect(skip.status).toBe(400);
    expect(((await skip.json()) as { error: string }).error).toContain("book mode");
  });
});
