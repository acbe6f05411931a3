/** Every format parses back to the JSON rows; every validation, auth, limit and budget path. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "@msgpack/msgpack";
import { buildFixture, COLD_MAX_ID, type Fixture, oracleRows } from "./fixture.ts";
import { makeApp } from "./setup.ts";

let fx: Fixture;
let app: Awaited<ReturnType<typeof makeApp>>;
const closers: (() => void)[] = [];
beforeAll(async () => {
  fx = await buildFixture();
  app = await makeApp(fx);
  closers.push(() => app.engine.close());
});
afterAll(() => {
  for (const c of closers) c();
  fx.close();
});

const req = (a: { app: { handle(r: Request): Promise<Response> } }, path: string, init: RequestInit = {}) =>
  a.app.handle(new Request(`http://localhost${path}`, init));
type Row = Record<string, unknown>;
const TRADES = "/v1/trades?symbol=BTCUSDT&start=2024-01-03T01:59:00Z&limit=300";

describe("formats", () => {
  test("CSV, NDJSON, msgpack and Parquet carry the same rows as JSON", async () => {
    const j = (await (await req(app, TRADES)).json()) as { data: Row[]; next_cursor: string };
    expect(j.data.length).toBe(300);
    const asText = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]));

    const csvRes = await req(app, `${TRADES}&format=csv`);
    expect(csvRes.headers.get("content-type")).toStartWith("text/csv");
    expect(csvRes.headers.get("x-next-cursor")).toBe(j.next_cursor);
    const [head, ...lines] = (await csvRes.text()).trimEnd().split("\r\n");
    const cols = head!.split(",");
    expect(lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])))).toEqual(
      j.data.map(asText),
    );

    const nd = await req(app, TRADES, { headers: { accept: "application/x-ndjson" } });
    expect(nd.headers.get("content-type")).toBe("application/x-ndjson");
    expect(
      (await nd.text())
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual(j.data);

    const mp = await req(app, TRADES, { headers: { accept: "application/msgpack" } });
    expect(decode(new Uint8Array(await mp.arrayBuffer()))).toEqual(j as never);

    const pq = await req(app, `${TRADES}&format=parquet`);
    expect(pq.headers.get("content-type")).toBe("application/vnd.apache.parquet");
    const file = join(fx.dir, "out.parquet");
    writeFileSync(file, new Uint8Array(await pq.arrayBuffer()));
    const types = await oracleRows(
      fx.oracle,
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
    );
    const typeOf = Object.fromEntries(types.map((r) => [r[0], r[1]]));
    expect([typeOf.price, typeOf.trade_id, typeOf.trade_time_us, typeOf.is_buyer_maker]).toEqual([
      "DECIMAL(18,8)",
      "BIGINT",
      "TIMESTAMP WITH TIME ZONE",
      "BOOLEAN",
    ]);
    const back = await oracleRows(
      fx.oracle,
      `SELECT exchange, symbol, trade_id, price::VARCHAR, quantity::VARCHAR, side, is_buyer_maker, epoch_us(trade_time_us), trade_time_iso,
        epoch_us(event_time_us), event_time_iso, epoch_us(recv_time_us), recv_time_iso FROM read_parquet('${file}')`,
    );
    expect(back.map((r) => r.map((v) => (typeof v === "bigint" ? Number(v) : v)))).toEqual(
      j.data.map((r) => Object.values(r)) as never,
    );
  });
});

describe("validation: 400 with the field named", () => {
  const cases: [string, string][] = [
    ["/v1/trades?symbol=btc-usdt", "symbol"],
    ["/v1/trades", "symbol"],
    ["/v1/trades?symbol=BTCUSDT&start=yesterday", "start"],
    ["/v1/trades?symbol=BTCUSDT&start=2024-02-30", "start"],
    ["/v1/trades?symbol=BTCUSDT&start=2024-01-02&end=2024-01-01", "end"],
    ["/v1/trades?symbol=BTCUSDT&limit=0", "limit"],
    ["/v1/trades?symbol=BTCUSDT&limit=10001", "limit"],
    ["/v1/trades?symbol=BTCUSDT&limit=ten", "limit"],
    ["/v1/trades?symbol=BTCUSDT&order=sideways", "order"],
    ["/v1/trades?symbol=BTCUSDT&cursor=!!", "cursor"],
    ["/v1/trades?symbol=BTCUSDT&cursor=djF8cXVvdGVzfEVUSFVTRFR8YXNjfDEwMDI", "cursor"],
    ["/v1/trades?symbol=BTCUSDT&format=xml", "format"],
    ["/v1/trades/recent?symbol=BTCUSDT&minutes=61", "minutes"],
    ["/v1/ohlcv?symbol=BTCUSDT&interval=2m", "interval"],
    ["/v1/ohlcv?symbol=BTCUSDT", "interval"],
    ["/v1/ohlcv?symbol=BTCUSDT&interval=1m&fill=zero", "fill"],
    ["/v1/summary/BTCUSDT?date=2024-1-1", "date"],
    ["/v1/summary/b", "symbol"],
    ["/v1/replay?table=trades&symbol=BTCUSDT&speed=fast", "speed"],
    ["/v1/replay?table=orders&symbol=BTCUSDT", "table"],
  ];
  for (const [path, field] of cases) {
    test(`${path} → ${field}`, async () => {
      const r = await req(app, path);
      expect(r.status).toBe(400);
      const e = ((await r.json()) as { error: { code: string; field: string; message: string } }).error;
      expect(e.field).toBe(field);
      expect(e.message).toStartWith(`${field}:`);
    });
  }

  test("batch: more than 10 queries, bad JSON, a bad item field", async () => {
    const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
      req(app, "/v1/ohlcv/batch", { method: "POST", body, headers });
    const q = { symbol: "BTCUSDT", interval: "1h" };
    const over = await post(JSON.stringify({ queries: Array(11).fill(q) }));
    expect([over.status, ((await over.json()) as { error: { field: string } }).error.field]).toEqual([
      400,
      "queries",
    ]);
    expect((await post("{nope")).status).toBe(400);
    const bad = await post(JSON.stringify({ queries: [q, { ...q, interval: "7m" }] }));
    expect([bad.status, ((await bad.json()) as { error: { field: string } }).error.field]).toEqual([
      400,
      "queries.1.interval",
    ]);
  });
});

describe("not found and budgets", () => {
  test("an unknown symbol is 404 on every symbol endpoint", async () => {
    for (const p of [
      "/v1/trades?symbol=SOLUSDT",
      "/v1/ohlcv?symbol=SOLUSDT&interval=1m",
      "/v1/summary/SOLUSDT",
      "/v1/gaps?symbol=SOLUSDT",
      "/v1/replay?table=trades&symbol=SOLUSDT",
    ]) {
      const r = await req(app, p);
      expect([p, r.status]).toEqual([p, 404]);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unknown_symbol");
    }
  });

  test("413 over the scan budget and 422 over the range budget, with the limit in the message", async () => {
    const small = await makeApp(fx, { engine: { maxScanRows: 1000, maxRangeUs: 86_400_000_000 } });
    closers.push(() => small.engine.close());
    const a = await req(small, "/v1/trades?symbol=BTCUSDT&limit=1");
    expect(a.status).toBe(413);
    expect(((await a.json()) as { error: { message: string } }).error.message).toContain("1000");
    const b = await req(small, "/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-03");
    expect(b.status).toBe(422);
    expect(((await b.json()) as { error: { code: string } }).error.code).toBe("range_too_large");
    expect((await req(small, "/v1/quotes?symbol=ETHUSDT&limit=1")).status).toBe(413);
    expect((await req(small, "/v1/agg-trades?symbol=ETHUSDT&limit=1")).status).toBe(200);
  });

  test("the scan budget counts the files a row page reads, not the symbol's whole history", async () => {
    // 105,000 stored trades in files of ~17,500: over a 30,000-row budget in all, under it per page.
    const mid = await makeApp(fx, { engine: { maxScanRows: 30_000 }, withHot: false });
    closers.push(() => mid.engine.close());
    const newest = await req(mid, "/v1/trades?symbol=BTCUSDT&limit=100&order=desc");
    expect(newest.status).toBe(200);
    const rows = ((await newest.json()) as { data: { trade_id: number }[] }).data;
    expect(rows.length).toBe(100);
    expect(rows[0]!.trade_id).toBe(COLD_MAX_ID);
    // Candles over every stored row do scan them all: refused, with the limit named.
    const all = await req(mid, "/v1/ohlcv?symbol=BTCUSDT&interval=1d");
    expect(all.status).toBe(413);
    expect(((await all.json()) as { error: { message: string } }).error.message).toContain("30000");
  });
});

describe("auth, rate limit, CORS, body cap", () => {
  test("API keys: required when configured, compared in full", async () => {
    const a = await makeApp(fx, { api: { apiKeys: ["k-one-secret", "k-two-secret"] } });
    closers.push(() => a.engine.close());
    const path = "/v1/trades?symbol=BTCUSDT&limit=1";
    expect((await req(a, path)).status).toBe(401);
    const wrong = await req(a, path, { headers: { "x-api-key": "k-one-secreT" } });
    expect([wrong.status, ((await wrong.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      "unauthorized",
    ]);
    expect((await req(a, path, { headers: { "x-api-key": "k-two-secret" } })).status).toBe(200);
    expect((await req(a, "/health/live")).status).toBe(200); // the gate covers /v1 only
  });

  test("requireApiKey (non-loopback host) without keys refuses everything", async () => {
    const a = await makeApp(fx, { api: { requireApiKey: true } });
    closers.push(() => a.engine.close());
    expect((await req(a, "/v1/symbols", { headers: { "x-api-key": "" } })).status).toBe(401);
  });

  test("token bucket: burst then 429 with Retry-After and RateLimit-*, refilled by time, per key", async () => {
    let now = 1_000_000;
    const a = await makeApp(fx, {
      api: { apiKeys: ["alpha", "beta"], rateLimitBurst: 3, rateLimitPerSec: 2 },
      nowMs: () => now,
    });
    closers.push(() => a.engine.close());
    const hit = (key: string) => req(a, "/v1/symbols", { headers: { "x-api-key": key } });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await hit("alpha");
      expect(r.status).toBe(200);
      remaining.push(r.headers.get("ratelimit-remaining")!);
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const limited = await hit("alpha");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.headers.get("ratelimit-limit")).toBe("3");
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    expect((await hit("beta")).status).toBe(200); // another key has its own bucket
    now += 500; // 2/s → one token back
    expect((await hit("alpha")).status).toBe(200);
    expect((await hit("alpha")).status).toBe(429);
  });

  test("CORS: allowed origins get headers and preflight; others get none", async () => {
    const a = await makeApp(fx, { api: { corsOrigins: ["https://app.example"] } });
    closers.push(() => a.engine.close());
    const ok = await req(a, "/v1/symbols", { headers: { origin: "https://app.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-expose-headers")).toContain("x-data-freshness-ms");
    const other = await req(a, "/v1/symbols", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await req(a, "/v1/ohlcv/batch", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-headers")).toContain("X-API-Key");
  });

  test("request bodies over the cap are 413, with or without Content-Length", async () => {
    const a = await makeApp(fx, { api: { maxBodyBytes: 200 } });
    closers.push(() => a.engine.close());
    const body = JSON.stringify({ queries: Array(10).fill({ symbol: "BTCUSDT", interval: "1h" }) });
    const r = await req(a, "/v1/ohlcv/batch", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(413);
    const chunked = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(body));
        c.close();
      },
    });
    const r2 = await req(a, "/v1/ohlcv/batch", {
      method: "POST",
      body: chunked,
      headers: { "content-type": "application/json" },
    });
    expect(r2.status).toBe(413);
  });
});

describe("load shedding by degradation level", () => {
  test("AGGRESSIVE refuses expensive queries with 503 + Retry-After; CIRCUIT_BREAK refuses all /v1", async () => {
    // The real manager's policy, driven to each level by its own inputs.
    const { DegradationManager } = await import("../../src/resilience/degradation.ts");
    const dm = new DegradationManager({ rssBudgetBytes: 1e12, cooldownMs: 0 });
    let now = 0;
    const setLevel = (ringFill: number) => {
      now += 1;
      dm.update({ ringFillRatio: ringFill, sinkWriteLagMs: 0, rssBytes: 0, eventLoopLagP99Ms: 0 }, now);
    };
    const load = dm;
    const a = await makeApp(fx, { load });
    closers.push(() => a.engine.close());
    const cheap = "/v1/trades?symbol=BTCUSDT&limit=5";
    const dayCandles = "/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02";
    const longCandles = "/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-03";
    const openCandles = "/v1/ohlcv?symbol=BTCUSDT&interval=1h";
    const replay = "/v1/replay?table=trades&symbol=BTCUSDT&start=2024-01-01&end=2024-01-01T00:10";
    for (const p of [cheap, dayCandles, longCandles, openCandles])
      expect([p, (await req(a, p)).status]).toEqual([p, 200]);

    setLevel(0.9);
    expect(dm.levelName).toBe("AGGRESSIVE");
    for (const p of [cheap, dayCandles]) expect([p, (await req(a, p)).status]).toEqual([p, 200]);
    for (const p of [longCandles, openCandles, replay]) {
      const r = await req(a, p);
      expect([p, r.status, r.headers.get("retry-after")]).toEqual([p, 503, "1"]);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("overloaded");
      expect(body.error.message).toContain("AGGRESSIVE");
    }

    setLevel(0.99);
    expect(dm.levelName).toBe("CIRCUIT_BREAK");
    for (const p of [cheap, "/v1/symbols", dayCandles])
      expect([p, (await req(a, p)).status]).toEqual([p, 503]);
    expect((await req(a, "/health/live")).status).toBe(200); // never shed
    expect((await req(a, "/metrics")).status).toBe(200);
    const metrics = await (await req(a, "/metrics")).text();
    expect(metrics).toMatch(/^k2_api_shed_total 6$/m);

    for (let i = 0; i < 4; i++) setLevel(0); // one level down per calm tick (cooldown 0 here)
    expect(dm.levelName).toBe("NORMAL");
    expect((await req(a, cheap)).status).toBe(200);
  });

  test("the scan budget shrinks with the level's budget scale", async () => {
    let scale = 1;
    const a = await makeApp(fx, {
      engine: { maxScanRows: 60_000 },
      withHot: false,
      budgetScale: () => scale,
    });
    closers.push(() => a.engine.close());
    // Candles over the first two dates read ~70k rows: over 60k, so pick one date (~50k rows).
    const day = "/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02";
    expect((await req(a, day)).status).toBe(200);
    scale = 0.25;
    const r = await req(a, day);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain("60000 × 0.25");
  });
});
