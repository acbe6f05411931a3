/**
 * Issue 16, defects 1-5: every /v1 input is checked strictly and explained in one human sentence.
 * Impossible dates and times are refused whatever their form; unknown and repeated parameters are
 * named; enum errors list the allowed values; lowercase symbols are accepted and normalised.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Harness, harness } from "./setup.ts";

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

interface ErrorJson {
  error: { code: string; message: string; field?: string };
}

async function refused(path: string, field: string): Promise<string> {
  const r = await h.get(path);
  expect([path, r.status]).toEqual([path, 400]);
  const body = (await r.json()) as ErrorJson;
  expect(body.error.field).toBe(field);
  expect(body.error.message).toStartWith(`${field}: `);
  // One sentence for a person: no regex, no TypeBox wording.
  expect(body.error.message).not.toMatch(/\^|\\d|Expected string|'string'/);
  return body.error.message;
}

describe("defect 1: impossible dates are 400, not a summary labelled with them", () => {
  for (const date of ["2026-12-32", "2026-00-00", "9999-99-99", "2026-02-30", "2023-02-29"]) {
    test(`/v1/summary/BTCUSDT?date=${date}`, async () => {
      const m = await refused(`/v1/summary/BTCUSDT?date=${date}`, "date");
      expect(m).toContain(date);
      expect(m).toContain("not a calendar date");
    });
  }
  test("a real leap day is fine", async () => {
    expect((await h.get("/v1/summary/BTCUSDT?date=2024-02-29")).status).toBe(200);
  });
});

describe("defect 2: every time form is checked against the calendar", () => {
  for (const start of [
    "2026-02-30T00:00:00+00:00",
    "2026-02-30T00:00:00Z",
    "2026-02-30T00:00:00",
    "2026-02-30",
    "2024-01-01T24:00:00Z",
    "2024-01-01T12:60Z",
    "2024-01-01T12:00:61Z",
    "2024-01-01T12:00:00+25:00",
  ]) {
    test(`start=${start}`, async () => {
      const m = await refused(`/v1/trades?symbol=BTCUSDT&start=${encodeURIComponent(start)}`, "start");
      expect(m).toContain(start);
    });
  }
  test("a zone offset still shifts a real time", async () => {
    const r = await h.get(
      `/v1/trades?symbol=BTCUSDT&limit=1&start=${encodeURIComponent("2024-01-01T02:00+02:00")}`,
    );
    expect(((await r.json()) as { meta: { start_us: number } }).meta.start_us).toBe(
      Date.UTC(2024, 0, 1) * 1000,
    );
  });
});

describe("defect 3: unknown and repeated parameters are named", () => {
  test("a near miss names the one meant", async () => {
    const m = await refused("/v1/trades?symbol=BTCUSDT&orderr=desc", "orderr");
    expect(m).toContain('did you mean "order"');
  });
  test("an unrelated name lists what the route takes", async () => {
    const m = await refused("/v1/trades?symbol=BTCUSDT&foo=bar", "foo");
    expect(m).toContain("unknown parameter");
    expect(m).toContain("symbol, start, end, limit, cursor, order, format");
  });
  test("a parameter another route takes is not silently ignored", async () => {
    const m = await refused("/v1/ohlcv?symbol=BTCUSDT&interval=1h&minutes=5", "minutes");
    expect(m).toContain("unknown parameter");
  });
  test("a repeated parameter is refused, not last-wins", async () => {
    const m = await refused("/v1/trades?symbol=BTCUSDT&symbol=ETHUSDT", "symbol");
    expect(m).toContain("2 times");
  });
  test("every route checks: gaps, symbols, summary, replay", async () => {
    await refused("/v1/gaps?symbl=BTCUSDT", "symbl");
    await refused("/v1/symbols?formatt=csv", "formatt");
    await refused("/v1/summary/BTCUSDT?dat=2024-01-01", "dat");
    await refused("/v1/replay?table=trades&symbol=BTCUSDT&sped=2", "sped");
    await refused("/v1/trades/recent?symbol=BTCUSDT&minute=5", "minute");
  });
  test("batch items: unknown fields are named with their position", async () => {
    const r = await h.app.handle(
      new Request("http://localhost/v1/ohlcv/batch", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ queries: [{ symbol: "BTCUSDT", interval: "1h", intervall: "1m" }] }),
      }),
    );
    const e = ((await r.json()) as ErrorJson).error;
    expect([r.status, e.field]).toEqual([400, "queries.0.intervall"]);
    expect(e.message).toContain('did you mean "interval"');
  });
});

describe("defect 4: enum errors list the allowed values", () => {
  const cases: [string, string, string][] = [
    ["/v1/ohlcv?symbol=BTCUSDT&interval=2m", "interval", "1s, 1m, 5m, 15m, 30m, 1h, 4h, 1d"],
    ["/v1/trades?symbol=BTCUSDT&format=xml", "format", "json, csv, ndjson, parquet, msgpack"],
    ["/v1/trades?symbol=BTCUSDT&order=sideways", "order", "asc, desc"],
    ["/v1/ohlcv?symbol=BTCUSDT&interval=1m&fill=zero", "fill", "none, previous"],
    ["/v1/replay?table=orders&symbol=BTCUSDT", "table", "trades, agg_trades, quotes"],
    ["/v1/replay?table=trades&symbol=BTCUSDT&format=csv", "format", "ndjson, sse"],
  ];
  for (const [path, field, allowed] of cases) {
    test(path, async () => {
      expect(await refused(path, field)).toContain(allowed);
    });
  }
  test("batch body enums too", async () => {
    const r = await h.app.handle(
      new Request("http://localhost/v1/ohlcv/batch", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ queries: [{ symbol: "BTCUSDT", interval: "7m" }] }),
      }),
    );
    const e = ((await r.json()) as ErrorJson).error;
    expect([r.status, e.field]).toEqual([400, "queries.0.interval"]);
    expect(e.message).toContain("1s, 1m, 5m, 15m, 30m, 1h, 4h, 1d");
  });
});

describe("defect 5: one human sentence per error; lowercase symbols are normalised", () => {
  test("limit: the same sentence for every wrong value", async () => {
    const messages = [];
    for (const v of ["-1", "1e9", "abc", "0", "10001"])
      messages.push((await refused(`/v1/trades?symbol=BTCUSDT&limit=${v}`, "limit")).replace(/"[^"]*"$/, ""));
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toContain("1 to 10000");
  });
  test("start=yesterday says what a time looks like", async () => {
    const m = await refused("/v1/trades?symbol=BTCUSDT&start=yesterday", "start");
    expect(m).toContain("2024-01-02T03:04:05Z");
  });
  test("lowercase symbols work on every route and come back upper-case", async () => {
    const paths = [
      "/v1/trades?symbol=btcusdt&limit=1",
      "/v1/agg-trades?symbol=btcusdt&limit=1",
      "/v1/quotes?symbol=btcusdt&limit=1",
      "/v1/trades/recent?symbol=btcusdt&limit=1",
      "/v1/ohlcv?symbol=btcusdt&interval=1h&start=2024-01-01&end=2024-01-02",
      "/v1/summary/btcusdt?date=2024-01-01",
      "/v1/gaps?symbol=btcusdt",
    ];
    for (const p of paths) {
      const r = await h.get(p);
      expect([p, r.status]).toEqual([p, 200]);
      const body = (await r.json()) as { meta: { symbol: string } };
      expect([p, body.meta.symbol]).toEqual([p, "BTCUSDT"]);
    }
    const replay = await h.get(
      "/v1/replay?table=trades&symbol=btcusdt&start=2024-01-01&end=2024-01-01T00:00:01",
    );
    expect(replay.status).toBe(200);
    await replay.text();
  });
  test("X-Data-Freshness-Ms is the same for a lowercase symbol", async () => {
    const upper = (await h.get("/v1/trades?symbol=BTCUSDT&limit=1")).headers.get("x-data-freshness-ms");
    expect(upper).not.toBe("-1");
    for (const p of ["/v1/trades?symbol=btcusdt&limit=1", "/v1/summary/btcusdt?date=2024-01-01"])
      expect([p, (await h.get(p)).headers.get("x-data-freshness-ms")]).toEqual([p, upper]);
  });
  test("a symbol that cannot be one says what a symbol looks like", async () => {
    const m = await refused("/v1/trades?symbol=BTC-USDT", "symbol");
    expect(m).toContain("BTCUSDT");
  });
  test("a missing required parameter is named", async () => {
    const m = await refused("/v1/ohlcv?symbol=BTCUSDT", "interval");
    expect(m).toContain("required");
  });
});

describe("friction: epoch seconds and microseconds where milliseconds are expected", () => {
  test("seconds are refused with the millisecond value as a hint", async () => {
    const m = await refused("/v1/trades?symbol=BTCUSDT&start=1704067200", "start");
    expect(m).toContain("seconds");
    expect(m).toContain("1704067200000");
  });
  test("microseconds are refused with the millisecond value as a hint", async () => {
    const m = await refused("/v1/trades?symbol=BTCUSDT&start=1704067200000000", "start");
    expect(m).toContain("microseconds");
    expect(m).toContain("1704067200000");
  });
  test("milliseconds work", async () => {
    const r = await h.get("/v1/trades?symbol=BTCUSDT&limit=1&start=1704067200000");
    expect(((await r.json()) as { meta: { start_us: number } }).meta.start_us).toBe(1_704_067_200_000_000);
  });
});

describe("friction: a wrong method is 405 with Allow", () => {
  test("/v1 routes with parameters and the batch route", async () => {
    const post = await h.app.handle(
      new Request("http://localhost/v1/trades?symbol=BTCUSDT", { method: "POST" }),
    );
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    const sum = await h.app.handle(new Request("http://localhost/v1/summary/BTCUSDT", { method: "PUT" }));
    expect([sum.status, sum.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    const batch = await h.get("/v1/ohlcv/batch");
    expect([batch.status, batch.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("friction: OHLCV newest first (order=desc)", () => {
  type Page = { data: { open_time_us: number }[]; next_cursor: string | null; meta: { order: string } };
  const base = "/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02";
  test("the same candles as ascending, reversed, and pages that follow newest to oldest", async () => {
    const asc = (await (await h.get(base)).json()) as Page;
    expect(asc.data.length).toBeGreaterThan(20);
    expect(asc.next_cursor).toBeNull();
    const desc = (await (await h.get(`${base}&order=desc`)).json()) as Page;
    expect(desc.meta.order).toBe("desc");
    expect(desc.data).toEqual([...asc.data].reverse());
    const seen: number[] = [];
    let next: string | null = null;
    for (let i = 0; i < 10; i++) {
      const q: string = `${base}&order=desc&limit=5${next ? `&cursor=${next}` : ""}`;
      const page = (await (await h.get(q)).json()) as Page;
      expect(page.data.length).toBeLessThanOrEqual(5);
      for (const c of page.data) seen.push(c.open_time_us);
      next = page.next_cursor;
      if (next === null) break;
    }
    expect(next).toBeNull();
    expect(seen).toEqual(desc.data.map((c) => c.open_time_us));
  });
  test("without start, paging stops at the symbol's first trade", async () => {
    let next: string | null = null;
    let n = 0;
    for (let pages = 0; pages < 10; pages++) {
      const q: string = `/v1/ohlcv?symbol=BTCUSDT&interval=1d&order=desc&limit=2${next ? `&cursor=${next}` : ""}`;
      const page = (await (await h.get(q)).json()) as Page;
      n += page.data.length;
      next = page.next_cursor;
      if (next === null) break;
    }
    expect([n, next]).toEqual([3, null]); // the fixture's trades span three UTC days
  });
  test("fill=previous is refused with order=desc, saying why", async () => {
    const m = await refused(`${base}&order=desc&fill=previous`, "order");
    expect(m).toContain("fill=previous");
  });
});
