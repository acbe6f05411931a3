/**
 * The encoded page cache (src/http/routes/v1/page-cache.ts) and the row text cache (row-text.ts)
 * over the fixture: a cached page is byte-for-byte the page an app without either cache sends, in
 * every format; a newer row or a newly visible file reaches the next response; cursor paging
 * returns the oracle's ids and the uncached bytes with the caches warm; pages holding stored rows
 * are never cached; rows replacing each other in a tiny row text cache still encode right.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Counter, Gauge } from "../../src/obs/metrics.ts";
import { DirFileSource } from "../../src/query/dir-source.ts";
import { buildFixture, COLD_MAX_ID, type Fixture, N_TRADES, oracleRows, rowColumnsFor } from "./fixture.ts";
import { RevealingSource } from "./revealing-source.ts";
import { makeApp } from "./setup.ts";

let fx: Fixture;
let cached: App;
let plain: App;
const closers: (() => void)[] = [];
beforeAll(async () => {
  fx = await buildFixture();
  cached = await makeApp(fx);
  plain = await makeApp(fx, { api: { pageCacheBytes: 0, rowTextSlots: 0 } });
  closers.push(
    () => cached.engine.close(),
    () => plain.engine.close(),
  );
});
afterAll(() => {
  for (const c of closers) c();
  fx.close();
});

type App = Awaited<ReturnType<typeof makeApp>>;
type Page = { data: Record<string, number>[]; next_cursor: string | null; meta: Record<string, unknown> };
const get = (a: App, path: string, headers: Record<string, string> = {}) =>
  a.app.handle(new Request(`http://localhost${path}`, { headers }));
const hits = (a: App) => (a.registry.get("k2_api_page_cache_hits_total") as Counter).value;
/** Headers that differ per request or per app (request id, data age, the app's own rate bucket). */
const PER_REQUEST = new Set([
  "x-request-id",
  "x-data-freshness-ms",
  "ratelimit-remaining",
  "ratelimit-reset",
]);
/** What a client sees of a response: status, every other header, and the body's bytes. */
async function seen(r: Response) {
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (!PER_REQUEST.has(k)) headers[k] = v;
  });
  expect(r.headers.get("x-request-id")).toBeTruthy();
  return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()).toString("base64") };
}

describe("encoded page cache", () => {
  const NEWEST = "/v1/trades?symbol=BTCUSDT&limit=100&order=desc";

  test("a cached page is the uncached page, byte for byte, in every format", async () => {
    for (const format of ["json", "csv", "ndjson", "msgpack", "parquet"]) {
      const path = `${NEWEST}&format=${format}`;
      const want = await seen(await get(plain, path));
      expect(want.status).toBe(200);
      const before = hits(cached);
      const first = await seen(await get(cached, path));
      const second = await seen(await get(cached, path));
      expect(hits(cached)).toBe(before + 1); // the second one came from the cache
      expect(first).toEqual(want);
      expect(second).toEqual(want);
    }
    // Accept-negotiated formats are keyed apart from the default JSON of the same query string.
    const csv = await seen(await get(cached, NEWEST, { accept: "text/csv" }));
    expect(csv).toEqual(await seen(await get(plain, NEWEST, { accept: "text/csv" })));
    expect(csv.headers["content-type"]).toStartWith("text/csv");
  });

  test("a newer row is in the very next response", async () => {
    const a = await makeApp(fx, { withHot: false, engine: { hotRowsPerSymbol: 50_000 } });
    closers.push(() => a.engine.close());
    const rows = await rowColumnsFor(fx.oracle, COLD_MAX_ID + 1, COLD_MAX_ID + 600);
    for (let i = 0; i < 500; i++) a.engine.hot.append(rows, i);
    for (let k = 0; k < 3; k++) {
      const newest = COLD_MAX_ID + 500 + k;
      const p1 = (await (await get(a, NEWEST)).json()) as Page;
      const p2 = (await (await get(a, NEWEST)).json()) as Page; // served from the cache
      expect(p1.data[0]!.trade_id).toBe(newest);
      expect(p2).toEqual(p1);
      a.engine.hot.append(rows, newest - COLD_MAX_ID); // the row with id newest + 1
      const p3 = (await (await get(a, NEWEST)).json()) as Page;
      expect(p3.data[0]!.trade_id).toBe(newest + 1);
      expect(p3.data[1]).toEqual(p1.data[0]!);
      expect(p3.data).toHaveLength(100);
    }
    // Hits: the repeat in each round, and each round's first request after the first round (the
    // previous round's newest page, already cached): 3 + 2.
    expect(hits(a)).toBe(5);
  });

  test("a poller whose query string never repeats holds one page in the cache, not one per request", async () => {
    const a = await makeApp(fx, { withHot: false, engine: { hotRowsPerSymbol: 50_000 } });
    closers.push(() => a.engine.close());
    const rows = await rowColumnsFor(fx.oracle, COLD_MAX_ID + 1, COLD_MAX_ID + 600);
    for (let i = 0; i < 400; i++) a.engine.hot.append(rows, i);
    const bytes = () => (a.registry.get("k2_api_page_cache_bytes") as Gauge).value;
    let last = 0;
    for (let k = 0; k < 150; k++) {
      const r = await get(a, `/v1/trades?symbol=BTCUSDT&limit=${100 + k}&order=desc`); // never the same twice
      const page = JSON.parse(await r.text()) as Page;
      expect(page.data[0]!.trade_id).toBe(COLD_MAX_ID + 400 + k);
      last = Number(r.headers.get("content-length") ?? Buffer.byteLength(JSON.stringify(page)));
      a.engine.hot.append(rows, 400 + k); // a newer row: every page kept so far can never be sent again
    }
    expect(bytes()).toBeGreaterThan(0);
    expect(bytes()).toBeLessThanOrEqual(last + 64);
  });

  test("a file becoming visible is in the next response's meta", async () => {
    const inner = new DirFileSource(fx.dir);
    const last = inner.files({ table: "trades", symbol: "BTCUSDT" }).at(-1)!;
    const source = new RevealingSource(inner, last.minId - 1);
    // A ring of 2,000: its oldest rows were evicted before reaching the (invisible) newest file.
    const a = await makeApp(fx, { source, withHot: false, engine: { hotRowsPerSymbol: 2_000 } });
    closers.push(() => a.engine.close());
    const rows = await rowColumnsFor(fx.oracle, last.minId, COLD_MAX_ID + 50);
    for (let i = 0; i < rows.capacity; i++) a.engine.hot.append(rows, i);
    const before = (await (await get(a, NEWEST)).json()) as Page;
    expect(before.meta.incomplete).toBe(true);
    expect((await (await get(a, NEWEST)).json()) as Page).toEqual(before);
    source.visibleMaxId = Number.MAX_SAFE_INTEGER;
    const after = (await (await get(a, NEWEST)).json()) as Page;
    expect(after.meta.incomplete).toBe(false);
    expect(after.data).toEqual(before.data);
  });

  test("cursor paging newest-first returns the oracle's ids, cold and warm", async () => {
    const want = (
      await oracleRows(fx.oracle, "SELECT trade_id FROM t ORDER BY trade_id DESC LIMIT 8000")
    ).map((r) => Number(r[0]));
    const pageAll = async () => {
      const out: number[] = [];
      let cursor: string | null = null;
      while (out.length < want.length) {
        const path = `/v1/trades?symbol=BTCUSDT&limit=1000&order=desc${cursor ? `&cursor=${cursor}` : ""}`;
        const r = await seen(await get(cached, path));
        expect(r).toEqual(await seen(await get(plain, path)));
        const p = JSON.parse(Buffer.from(r.body, "base64").toString()) as Page;
        out.push(...p.data.map((row) => row.trade_id!));
        cursor = p.next_cursor;
        if (!cursor) break;
      }
      return out;
    };
    const before = hits(cached);
    expect(await pageAll()).toEqual(want);
    expect(await pageAll()).toEqual(want);
    // The 5,000 rows above the files fill 5 pages, but the 5th reads one stored row (limit + 1
    // tells whether a next page exists), so 4 were cached on the first pass and hit on the second;
    // pages that reach into stored rows are never cached.
    expect(hits(cached) - before).toBe((N_TRADES - COLD_MAX_ID) / 1000 - 1);
  });

  test("a row text cache of 4 slots (rows evicting each other at every step) sends the same bytes", async () => {
    const tiny = await makeApp(fx, { api: { pageCacheBytes: 0, rowTextSlots: 4 } });
    closers.push(() => tiny.engine.close());
    for (const path of [
      NEWEST,
      `${NEWEST}&format=ndjson`,
      "/v1/trades?symbol=BTCUSDT&limit=300",
      "/v1/agg-trades?symbol=ETHUSDT&limit=50&order=desc",
      "/v1/quotes?symbol=ETHUSDT&limit=50",
    ])
      for (let k = 0; k < 2; k++)
        expect(await seen(await get(tiny, path))).toEqual(await seen(await get(plain, path)));
  });

  test("pages holding stored rows are not cached", async () => {
    const path = "/v1/trades?symbol=BTCUSDT&limit=100"; // ascending: the oldest rows, from files
    const before = hits(cached);
    const a = await seen(await get(cached, path));
    const b = await seen(await get(cached, path));
    expect(b).toEqual(a);
    expect(hits(cached)).toBe(before);
  });
});
