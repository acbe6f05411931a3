/**
 * The fast paths stay exact: newest rows served from the hot window while their files are also
 * visible (with a hole a late gap repair filled in the files only), and candles merged from the
 * per-file cache (warm, cold, unaligned edges, files appearing between queries), all against the
 * oracle.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gauge } from "../../src/obs/metrics.ts";
import { DirFileSource } from "../../src/query/dir-source.ts";
import {
  BASE_US,
  buildFixture,
  COLD_MAX_ID,
  type Fixture,
  N_TRADES,
  oracleCandles,
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

type App = Awaited<ReturnType<typeof makeApp>>;
type Row = Record<string, string | number | boolean | null>;
type Page = { data: Row[]; next_cursor: string | null; meta: Record<string, unknown> };
const get = async (a: App, path: string): Promise<Page> => {
  const r = await a.app.handle(new Request(`http://localhost${path}`));
  expect(r.status).toBe(200);
  return (await r.json()) as Page;
};
async function pageAll(a: App, path: string): Promise<number[]> {
  const out: number[] = [];
  let cursor: string | null = null;
  do {
    const p: Page = await get(a, `${path}${cursor ? `&cursor=${cursor}` : ""}`);
    out.push(...p.data.map((r) => r.trade_id as number));
    cursor = p.next_cursor;
  } while (cursor);
  return out;
}
const oracleIds = async (where: string, order: "ASC" | "DESC", limit = 1_000_000) =>
  (
    await oracleRows(
      fx.oracle,
      `SELECT trade_id FROM t WHERE ${where} ORDER BY trade_id ${order} LIMIT ${limit}`,
    )
  ).map((r) => Number(r[0]));

/** Ids the ring skipped (a gap) and a late repair wrote only to files. */
const HOLE = [104_000, 104_009] as const;
const RING_FROM = COLD_MAX_ID - 8_000;

describe("hot window over rows already in files", () => {
  let a: App;
  beforeAll(async () => {
    a = await makeApp(fx, { withHot: false, engine: { hotRowsPerSymbol: 50_000 } });
    closers.push(() => a.engine.close());
    const rows = await rowColumnsFor(fx.oracle, RING_FROM, N_TRADES);
    for (let i = 0; i < rows.capacity; i++) {
      const id = rows.id[i]!;
      if (id < HOLE[0] || id > HOLE[1]) a.engine.hot.append(rows, i);
    }
  });

  test("last-100 comes from memory alone and equals the oracle", async () => {
    const p = await get(a, "/v1/trades?symbol=BTCUSDT&order=desc&limit=100");
    expect(p.data.map((r) => r.trade_id)).toEqual(await oracleIds("true", "DESC", 100));
    expect([p.meta.hot_rows, p.meta.cold_rows]).toEqual([101, 0]);
  });

  test("rows in both a file and memory are served from memory, identical to the file's", async () => {
    const end = await tradeTimeUs(COLD_MAX_ID + 1);
    const p = await get(a, `/v1/trades?symbol=BTCUSDT&order=desc&limit=200&end=${Math.floor(end / 1000)}`);
    expect([p.meta.hot_rows, p.meta.cold_rows]).toEqual([201, 0]);
    const o = await oracleRows(
      fx.oracle,
      `SELECT trade_id, price::VARCHAR, quantity::VARCHAR, side, is_buyer_maker, epoch_us(trade_time_us), epoch_us(event_time_us), epoch_us(recv_time_us)
       FROM t WHERE epoch_us(trade_time_us) < ${Math.floor(end / 1000) * 1000} ORDER BY trade_id DESC LIMIT 200`,
    );
    expect(
      p.data.map((r) => [
        r.trade_id,
        r.price,
        r.quantity,
        r.side,
        r.is_buyer_maker,
        r.trade_time_us,
        r.event_time_us,
        r.recv_time_us,
      ]),
    ).toEqual(
      o.map((r) => [Number(r[0]), r[1], r[2], r[3], r[4], Number(r[5]), Number(r[6]), Number(r[7])]) as never,
    );
    expect(p.data[0]!.trade_id).toBe(COLD_MAX_ID);
  });

  test("descending pages through memory, the repaired hole (files) and older files", async () => {
    const got = await pageAll(
      a,
      "/v1/trades?symbol=BTCUSDT&order=desc&limit=1500&start=2024-01-03T00:00:00Z",
    );
    expect(got).toEqual(await oracleIds("trade_time_us >= TIMESTAMPTZ '2024-01-03 00:00:00+00'", "DESC"));
    expect(got).toContain(HOLE[0]);
  });

  test("ascending time ranges inside, across and below the ring equal the oracle", async () => {
    for (const [lo, hi] of [
      [RING_FROM + 100, RING_FROM + 900],
      [HOLE[0] - 50, HOLE[1] + 50],
      [RING_FROM - 500, RING_FROM + 500],
      [COLD_MAX_ID - 10, N_TRADES],
    ] as const) {
      const from = await tradeTimeUs(lo);
      const to = await tradeTimeUs(hi);
      const got = await pageAll(
        a,
        `/v1/trades?symbol=BTCUSDT&start=${Math.floor(from / 1000)}&end=${Math.floor(to / 1000)}&limit=300`,
      );
      const want = await oracleIds(
        `epoch_us(trade_time_us) >= ${Math.floor(from / 1000) * 1000} AND epoch_us(trade_time_us) < ${Math.floor(to / 1000) * 1000}`,
        "ASC",
      );
      expect(got).toEqual(want);
    }
  });
});

async function tradeTimeUs(id: number): Promise<number> {
  return Number(
    (await oracleRows(fx.oracle, `SELECT epoch_us(trade_time_us) FROM t WHERE trade_id = ${id}`))[0]![0],
  );
}

describe("candles from the per-file cache", () => {
  const DAY = 86_400_000_000;
  const candles = async (a: App, iv: string, from: number, to: number) =>
    (
      await get(
        a,
        `/v1/ohlcv?symbol=BTCUSDT&interval=${iv}&start=${from / 1000}&end=${to / 1000}&limit=10000`,
      )
    ).data.map(({ symbol, open_time_iso, ...rest }) => rest);

  test("warm and cold cache, aligned and unaligned ranges: equal to the oracle", async () => {
    const a = await makeApp(fx, { engine: { candleCachePartials: 100_000 } });
    closers.push(() => a.engine.close());
    const ranges: [string, number, number, number][] = [
      ["1m", 60_000_000, BASE_US, BASE_US + 3 * DAY],
      ["1m", 60_000_000, BASE_US + 30_500_000, BASE_US + DAY + 17_250_000],
      ["1h", 3_600_000_000, BASE_US + 1_234_567_000, BASE_US + 2 * DAY + 3_000_000_000],
      ["15m", 900_000_000, BASE_US + 100_000_000, BASE_US + 200_000_000], // inside one bucket
      ["1d", DAY, BASE_US, BASE_US + 4 * DAY],
    ];
    for (const round of [0, 1]) {
      for (const [iv, ivUs, from, to] of ranges) {
        const got = await candles(a, iv, from, to);
        expect(got).toEqual((await oracleCandles(fx.oracle, ivUs, from, to)) as never);
      }
      if (round === 0) expect(a.engine.candles.size).toBeGreaterThan(0);
      // What /metrics shows an operator is what the cache holds.
      expect((a.registry.get("k2_query_candle_cache_partials") as Gauge).value).toBe(a.engine.candles.size);
    }
    expect(a.engine.candles.hits).toBeGreaterThan(0);
  });

  test("a file that becomes visible between queries is counted, cached ones are not stale", async () => {
    const inner = new DirFileSource(fx.dir);
    const last = inner.files({ table: "trades", symbol: "BTCUSDT" }).at(-1)!;
    const source = new RevealingSource(inner, last.minId - 1);
    const a = await makeApp(fx, { source, engine: { candleCachePartials: 100_000 } });
    closers.push(() => a.engine.close());
    const from = BASE_US + 2 * DAY;
    const to = BASE_US + 3 * DAY;
    // The newest file hidden and its rows not in memory: the candles lack them.
    const before = await candles(a, "1h", from, to);
    expect(before.reduce((n, c) => n + (c.trade_count as number), 0)).toBeLessThan(
      (await oracleCandles(fx.oracle, 3_600_000_000, from, to)).reduce((n, c) => n + c.trade_count, 0),
    );
    source.visibleMaxId = Number.MAX_SAFE_INTEGER;
    expect(await candles(a, "1h", from, to)).toEqual(
      (await oracleCandles(fx.oracle, 3_600_000_000, from, to)) as never,
    );
  });

  test("cache off gives the same candles", async () => {
    const a = await makeApp(fx, { engine: { candleCachePartials: 0 } });
    closers.push(() => a.engine.close());
    const got = await candles(a, "5m", BASE_US + 12_345_000, BASE_US + 2 * DAY);
    expect(got).toEqual(
      (await oracleCandles(fx.oracle, 300_000_000, BASE_US + 12_345_000, BASE_US + 2 * DAY)) as never,
    );
    expect(a.engine.candles.size).toBe(0);
  });
});
