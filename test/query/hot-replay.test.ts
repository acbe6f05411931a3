/** The hot/cold boundary under concurrent ingestion and file publication, and replay streaming. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DirFileSource } from "../../src/query/dir-source.ts";
import { replay } from "../../src/query/replay.ts";
import {
  BASE_US,
  buildFixture,
  COLD_MAX_ID,
  type Fixture,
  N_TRADES,
  oracleRows,
  rowColumnsFor,
} from "./fixture.ts";
import { RevealingSource } from "./revealing-source.ts";
import { makeApp } from "./setup.ts";

let fx: Fixture;
const closers: (() => void)[] = [];
beforeAll(async () => {
  fx = await buildFixture();
});
afterAll(() => {
  for (const c of closers) c();
  fx.close();
});

const req = (a: { app: { handle(r: Request): Promise<Response> } }, path: string) =>
  a.app.handle(new Request(`http://localhost${path}`));
type Page = { data: Record<string, number>[]; next_cursor: string | null; meta: { incomplete: boolean } };

describe("hot/cold boundary", () => {
  test("paging while rows arrive and a file is published: no gap, no duplicate", async () => {
    const inner = new DirFileSource(fx.dir);
    const last = inner.files({ table: "trades", symbol: "BTCUSDT" }).at(-1)!;
    expect(last.maxId).toBe(COLD_MAX_ID);
    const source = new RevealingSource(inner, last.minId - 1); // the newest file not yet visible
    const a = await makeApp(fx, { source, withHot: false, engine: { hotRowsPerSymbol: 50_000 } });
    closers.push(() => a.engine.close());
    const pending = await rowColumnsFor(fx.oracle, last.minId, N_TRADES);
    let fed = 0;
    const feed = (n: number) => {
      const end = Math.min(pending.capacity, fed + n);
      for (; fed < end; fed++) a.engine.hot.append(pending, fed);
    };
    feed(3000);
    const start = "2024-01-03T00:00:00Z";
    const got: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const inFlight = req(
        a,
        `/v1/trades?symbol=BTCUSDT&start=${start}&limit=700${cursor ? `&cursor=${cursor}` : ""}`,
      );
      // While the query runs: more rows arrive, and at page 4 the file becomes visible.
      feed(900);
      if (++pages === 4) source.visibleMaxId = Number.MAX_SAFE_INTEGER;
      const p = (await (await inFlight).json()) as Page;
      got.push(...p.data.map((r) => r.trade_id!));
      expect(p.meta.incomplete).toBe(false);
      cursor = p.next_cursor;
    } while (cursor);
    expect(fed).toBe(pending.capacity);
    const o = await oracleRows(
      fx.oracle,
      `SELECT trade_id FROM t WHERE trade_time_us >= TIMESTAMPTZ '${start}' ORDER BY trade_id`,
    );
    expect(got).toEqual(o.map((r) => Number(r[0])));
  });

  test("a query right after a row is appended sees it", async () => {
    const a = await makeApp(fx, { withHot: false });
    closers.push(() => a.engine.close());
    const rows = await rowColumnsFor(fx.oracle, COLD_MAX_ID + 1, COLD_MAX_ID + 1);
    expect(
      ((await (await req(a, "/v1/trades?symbol=BTCUSDT&order=desc&limit=1")).json()) as Page).data[0]!
        .trade_id,
    ).toBe(COLD_MAX_ID);
    a.engine.hot.append(rows, 0);
    a.engine.hot.append(rows, 0); // a duplicate delivery is refused by id
    const p = (await (await req(a, "/v1/trades?symbol=BTCUSDT&order=desc&limit=2")).json()) as Page;
    expect(p.data.map((r) => r.trade_id)).toEqual([COLD_MAX_ID + 1, COLD_MAX_ID]);
  });

  test("rows evicted from a full hot window before their file is visible are flagged incomplete", async () => {
    const inner = new DirFileSource(fx.dir);
    const last = inner.files({ table: "trades", symbol: "BTCUSDT" }).at(-1)!;
    const a = await makeApp(fx, {
      source: new RevealingSource(inner, last.minId - 1),
      withHot: false,
      engine: { hotRowsPerSymbol: 1000 },
    });
    closers.push(() => a.engine.close());
    const rows = await rowColumnsFor(fx.oracle, last.minId, last.minId + 1999);
    for (let i = 0; i < rows.capacity; i++) a.engine.hot.append(rows, i);
    const p = (await (await req(a, "/v1/trades?symbol=BTCUSDT&order=desc&limit=5")).json()) as Page;
    expect(p.meta.incomplete).toBe(true);
  });
});

describe("replay", () => {
  test("NDJSON replay streams every row in order, equal to the paged API", async () => {
    const a = await makeApp(fx, { api: { replayPageRows: 128 } });
    closers.push(() => a.engine.close());
    const r = await req(a, "/v1/replay?table=agg_trades&symbol=ETHUSDT");
    expect(r.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await r.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const api = (await (await req(a, "/v1/agg-trades?symbol=ETHUSDT&limit=1000")).json()) as Page;
    expect(lines).toEqual(api.data);
  });

  test("backpressure: an unread stream does not read ahead; cancel stops it", async () => {
    const a = await makeApp(fx, { api: { replayPageRows: 1000 } });
    closers.push(() => a.engine.close());
    const q0 = a.engine.duck.queries;
    const r = await req(a, "/v1/replay?table=trades&symbol=BTCUSDT");
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).split("\n").length).toBeGreaterThan(900);
    await Bun.sleep(50);
    const afterIdle = a.engine.duck.queries - q0;
    expect(afterIdle).toBeLessThanOrEqual(2); // the page read plus at most one buffered ahead
    await reader.cancel();
    await Bun.sleep(20);
    expect(a.engine.duck.queries - q0).toBe(afterIdle);
  });

  // Pacing on an injected clock: replay() takes the clock and the sleep, so the schedule is exact
  // whatever the machine's load. Agg trades are 1 s apart in the fixture.
  for (const speed of [40, 2]) {
    test(`speed ${speed}: each row goes out when its recorded offset ÷ speed is due (injected clock)`, async () => {
      const a = await makeApp(fx);
      closers.push(() => a.engine.close());
      let clockMs = 0;
      const sleeps: number[] = [];
      const sent: { atMs: number; ids: unknown[] }[] = [];
      const rows = replay(
        a.engine,
        {
          table: "agg_trades",
          symbol: "ETHUSDT",
          fromUs: BASE_US + 1_000_000,
          toUs: BASE_US + 6_000_000,
          speed,
          pageRows: 2, // the schedule must carry across pages
        },
        () => clockMs,
        async (ms) => {
          sleeps.push(ms);
          clockMs += ms;
        },
      );
      for await (const f of rows) {
        const id = f.columns.findIndex((c) => c.name === "agg_trade_id");
        sent.push({ atMs: clockMs, ids: f.data[id]! });
      }
      expect(sent).toEqual([1, 2, 3, 4, 5].map((n) => ({ atMs: ((n - 1) * 1000) / speed, ids: [n] })));
      // Long waits are sliced (SLEEP_SLICE_MS, 200 ms) so a cancelled stream is noticed soon.
      expect(Math.max(...sleeps)).toBeLessThanOrEqual(200);
    });
  }

  test("speed paces by recorded time over HTTP; SSE ends with an end event", async () => {
    const a = await makeApp(fx);
    closers.push(() => a.engine.close());
    const start = (BASE_US + 1_000_000) / 1000;
    const end = start + 5_000; // agg trades are 1 s apart: 5 rows, 4 s recorded
    const speed = 10;
    const t0 = performance.now();
    const r = await req(
      a,
      `/v1/replay?table=agg_trades&symbol=ETHUSDT&start=${start}&end=${end}&speed=${speed}&format=sse`,
    );
    const text = await r.text();
    const ms = performance.now() - t0;
    // The route hands `speed` to replay (whose schedule the tests above check exactly). Paced: no
    // sooner than 4 s / speed (less 5 ms of timer rounding), which an unpaced stream beats by far;
    // and sooner than the recorded 4 s, which a route that dropped the speed would take. A slow
    // machine only adds to the 400 ms, and has 3.6 s before the upper bound.
    expect(ms).toBeGreaterThanOrEqual(4000 / speed - 5);
    expect(ms).toBeLessThan(4000);
    const data = text
      .split("\n\n")
      .filter((b) => b.startsWith("data: "))
      .map((b) => JSON.parse(b.slice(6)));
    expect(data.map((d) => d.agg_trade_id)).toEqual([1, 2, 3, 4, 5]);
    expect(text.trimEnd().endsWith("event: end\ndata: {}")).toBe(true);
  });
});
