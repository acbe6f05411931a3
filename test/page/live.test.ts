/**
 * /page/live over a real engine (Parquet fixture + hot rows): the first tick carries the newest
 * trades exactly as /v1/trades serves them and a status record; the stream follows /v1's API
 * keys and refuses bad input with one sentence.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pino from "pino";
import { createApp } from "../../src/http/app.ts";
import { acceptLiveStreams, endLiveStreams, TAPE_ROWS, TICK_MS } from "../../src/http/page/live.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { Registry } from "../../src/obs/metrics.ts";
import { DirFileSource } from "../../src/query/dir-source.ts";
import { QueryEngine } from "../../src/query/engine.ts";
import { Readiness } from "../../src/resilience/readiness.ts";
import { buildFixture, type Fixture } from "../query/fixture.ts";
import { NOW_US } from "../query/setup.ts";
import { waitUntil } from "../support/wait.ts";

const KEY = "page-test-key-0123456789";
let fx: Fixture;
let engine: QueryEngine;
let app: { handle(r: Request): Promise<Response> };

beforeAll(async () => {
  fx = await buildFixture();
  engine = await QueryEngine.open(
    {
      source: new DirFileSource(fx.dir),
      symbols: new SymbolTable(["BTCUSDT", "ETHUSDT"]),
      nowUs: () => NOW_US,
    },
    { hotRowsPerSymbol: 20_000 },
  );
  for (let i = 0; i < fx.hotRows.capacity; i++) engine.hot.append(fx.hotRows, i);
  app = createApp({
    registry: new Registry(),
    readiness: new Readiness(),
    logger: pino({ level: "silent" }),
    version: "test",
    engine,
    api: { apiKeys: [KEY] },
  });
});

afterAll(() => {
  engine.close();
  fx.close();
});

const get = (path: string, key?: string) =>
  app.handle(new Request(`http://localhost${path}`, { headers: key ? { "x-api-key": key } : {} }));

/** Events of the first chunk of an SSE response; the stream is then cancelled. */
async function firstEvents(res: Response): Promise<Map<string, unknown>> {
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  const events = new Map<string, unknown>();
  for (const block of new TextDecoder().decode(value).split("\n\n")) {
    const m = /^event: (\w+)\ndata: (.*)$/s.exec(block);
    if (m) events.set(m[1]!, JSON.parse(m[2]!));
  }
  return events;
}

describe("/page/live", () => {
  test("first tick: the newest trades as /v1/trades has them, and the status record", async () => {
    const res = await get("/page/live?symbol=btcusdt&interval=1m", KEY);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = await firstEvents(res);
    const v1 = await get(`/v1/trades?symbol=BTCUSDT&order=desc&limit=${TAPE_ROWS}`, KEY);
    const newest = ((await v1.json()) as { data: unknown[] }).data;
    expect(newest).toHaveLength(TAPE_ROWS);
    expect(events.get("trades")).toEqual(newest);
    // Every candle those trades touched, as /v1/ohlcv has it (from the oldest trade's minute).
    const oldestMs = (newest.at(-1) as { trade_time_us: number }).trade_time_us / 1000;
    const start = Math.floor(oldestMs / 60_000) * 60_000;
    const candles = await get(`/v1/ohlcv?symbol=BTCUSDT&interval=1m&start=${start}`, KEY);
    const expected = ((await candles.json()) as { data: unknown[] }).data;
    expect(expected.length).toBeGreaterThan(0);
    expect(events.get("candles")).toEqual(expected);
    const status = events.get("status") as Record<string, unknown>;
    expect(status.freshness_ms).toBe(engine.freshnessMs("BTCUSDT"));
    expect(status.page_streams).toBe(1);
    expect(status.gaps).toEqual({ count: 0, updated_at_us: 0 });
    expect(status.book).toBe(false); // this app keeps no order books: the page hides its panel
    // The first stream was cancelled: it no longer counts against the bound of open pages.
    const again = await firstEvents(await get("/page/live?symbol=BTCUSDT&interval=1s", KEY));
    expect((again.get("status") as Record<string, unknown>).page_streams).toBe(1);
  });

  test("after=<id> sends only the newer trades; at shutdown the stream ends at once, new ones get 503", async () => {
    const v1 = await get("/v1/trades?symbol=BTCUSDT&order=desc&limit=10", KEY);
    const ten = ((await v1.json()) as { data: { trade_id: number }[] }).data;
    const res = await get(`/page/live?symbol=BTCUSDT&after=${ten[9]!.trade_id}`, KEY);
    const reader = res.body!.getReader();
    let text = "";
    const read = async () => {
      const { value, done } = await reader.read();
      if (!done) text += new TextDecoder().decode(value);
      return done;
    };
    await waitUntil(async () => (await read()) || text.includes("event: trades"), 5_000, "the first trades");
    await Bun.sleep(2 * TICK_MS); // the stream is idle (no new trades in the fixture), still open
    expect(text).not.toContain("event: end");
    expect(endLiveStreams()).toBe(1);
    const t0 = performance.now();
    while (!(await read())) if (performance.now() - t0 > 2_000) throw new Error("the stream did not end");
    const sent = /event: trades\ndata: (.*)\n/.exec(text);
    expect(JSON.parse(sent![1]!)).toEqual(ten.slice(0, 9));
    // No new trades arrive in the fixture: the end event names the newest id sent.
    expect(text).toEndWith(`event: end\ndata: {"after":${ten[0]!.trade_id}}\n\n`);
    const refused = await get("/page/live?symbol=BTCUSDT", KEY);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "K2 is stopping; the page reconnects by itself",
    );
    acceptLiveStreams();
    const again = await get("/page/live?symbol=BTCUSDT", KEY);
    expect(again.status).toBe(200);
    await again.body!.cancel();
  });

  test("follows the API keys of /v1: no key or a wrong one is 401", async () => {
    for (const key of [undefined, "not-the-key"]) {
      const res = await get("/page/live?symbol=BTCUSDT", key);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });

  test("bad input: one sentence naming the field; an unknown symbol is 404", async () => {
    const bad = await get("/page/live?symbol=BTCUSDT&interval=7m", KEY);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      "interval: expected one of 1s, 1m, 5m",
    );
    expect((await get("/page/live?symbol=NOPEUSDT", KEY)).status).toBe(404);
    const after = await get("/page/live?symbol=BTCUSDT&after=-3", KEY);
    expect(after.status).toBe(400);
    expect(((await after.json()) as { error: { message: string } }).error.message).toBe(
      "after: expected a trade id (a whole number)",
    );
  });
});
