/**
 * /v1 end to end over known data: every endpoint against DuckDB computed independently over the
 * same rows (the oracle table `t` holds files + hot rows), exact to the last decimal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BASE_US, COLD_MAX_ID, N_TRADES, oracleCandles as oracleCandlesOf, oracleRows } from "./fixture.ts";
import { type Harness, harness } from "./setup.ts";

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

type Row = Record<string, string | number | boolean | null>;
interface Page {
  data: Row[];
  next_cursor: string | null;
  meta: Record<string, unknown>;
}
const json = async (path: string) => {
  const r = await h.get(path);
  expect(r.status).toBe(200);
  return (await r.json()) as Page;
};
const ids = (p: Page, col = "trade_id") => p.data.map((r) => r[col] as number);
const DAY = 86_400_000_000;

async function pageAll(path: string, col = "trade_id"): Promise<number[]> {
  const out: number[] = [];
  let cursor: string | null = null;
  do {
    const p: Page = await json(`${path}${cursor ? `&cursor=${cursor}` : ""}`);
    out.push(...ids(p, col));
    cursor = p.next_cursor;
  } while (cursor);
  return out;
}

describe("trades", () => {
  test("rows equal the oracle's, decimals as exact strings, times as µs and ISO", async () => {
    const p = await json(`/v1/trades?symbol=BTCUSDT&start=${(BASE_US + 86_400_000_000) / 1000}&limit=50`);
    const o = await oracleRows(
      h.fx.oracle,
      `SELECT trade_id, price::VARCHAR, quantity::VARCHAR, side, is_buyer_maker, epoch_us(trade_time_us), epoch_us(event_time_us), epoch_us(recv_time_us)
       FROM t WHERE trade_time_us >= make_timestamp(${BASE_US + DAY})::TIMESTAMPTZ ORDER BY trade_id LIMIT 50`,
    );
    expect(p.data.length).toBe(50);
    p.data.forEach((r, i) => {
      const e = o[i]!;
      expect([r.trade_id, r.price, r.quantity, r.side, r.is_buyer_maker]).toEqual([
        Number(e[0]),
        e[1],
        e[2],
        e[3],
        e[4],
      ] as never);
      expect([r.trade_time_us, r.event_time_us, r.recv_time_us]).toEqual([
        Number(e[5]),
        Number(e[6]),
        Number(e[7]),
      ]);
      expect(r.exchange).toBe("BINANCE");
      expect(new Date(r.trade_time_iso as string).getTime()).toBe(Math.floor(Number(e[5]) / 1000));
      expect((r.trade_time_iso as string).slice(20, 26)).toBe(
        String(Number(e[5]) % 1_000_000).padStart(6, "0"),
      );
    });
  });

  test("cursor pages forward across the hot/cold boundary with no gap and no repeat", async () => {
    const start = BASE_US + 2 * DAY;
    const got = await pageAll(`/v1/trades?symbol=BTCUSDT&start=${start / 1000}&limit=2500`);
    const o = await oracleRows(
      h.fx.oracle,
      `SELECT trade_id FROM t WHERE trade_time_us >= make_timestamp(${start})::TIMESTAMPTZ ORDER BY trade_id`,
    );
    expect(got).toEqual(o.map((r) => Number(r[0])));
    expect(got.some((id) => id > COLD_MAX_ID)).toBe(true);
    expect(got.some((id) => id <= COLD_MAX_ID)).toBe(true);
  });

  test("descending pages from the newest (hot) row into files", async () => {
    const got = await pageAll("/v1/trades?symbol=BTCUSDT&order=desc&limit=3000&start=2024-01-03T00:00:00Z");
    const o = await oracleRows(
      h.fx.oracle,
      "SELECT trade_id FROM t WHERE trade_time_us >= TIMESTAMPTZ '2024-01-03 00:00:00+00' ORDER BY trade_id DESC",
    );
    expect(got).toEqual(o.map((r) => Number(r[0])));
    expect(got[0]).toBe(N_TRADES);
  });

  test("ISO and epoch-ms times select the same rows; end is exclusive", async () => {
    const a = await json(
      "/v1/trades?symbol=BTCUSDT&start=2024-01-01T01:00:00Z&end=2024-01-01T01:00:30.5Z&limit=100",
    );
    const b = await json(
      `/v1/trades?symbol=BTCUSDT&start=${(BASE_US + 3_600_000_000) / 1000}&end=${(BASE_US + 3_630_500_000) / 1000}&limit=100`,
    );
    expect(ids(a)).toEqual(ids(b));
    for (const r of a.data) expect(r.trade_time_us as number).toBeLessThan(BASE_US + 3_630_500_000);
    expect(a.data.length).toBeGreaterThan(5);
  });

  test("recent returns the last minutes newest first, hot rows included", async () => {
    const p = await json("/v1/trades/recent?symbol=BTCUSDT&minutes=60&limit=10000");
    const o = await oracleRows(
      h.fx.oracle,
      `SELECT trade_id FROM t WHERE epoch_us(trade_time_us) >= ${h.engine.nowUs() - 3_600_000_000} ORDER BY trade_id DESC`,
    );
    expect(ids(p)).toEqual(o.map((r) => Number(r[0])));
  });

  test("agg-trades and quotes have their stored columns and page by their ids", async () => {
    const a = await pageAll("/v1/agg-trades?symbol=ETHUSDT&limit=300", "agg_trade_id");
    expect(a).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const q = await json("/v1/quotes?symbol=ETHUSDT&limit=3&order=desc");
    const o = await oracleRows(
      h.fx.oracle,
      "SELECT update_id, bid_price::VARCHAR, bid_quantity::VARCHAR, ask_price::VARCHAR, ask_quantity::VARCHAR FROM q ORDER BY update_id DESC LIMIT 3",
    );
    expect(
      q.data.map((r) => [r.update_id, r.bid_price, r.bid_quantity, r.ask_price, r.ask_quantity]),
    ).toEqual(o.map((r) => [Number(r[0]), r[1], r[2], r[3], r[4]]) as never);
    const ag = await json("/v1/agg-trades?symbol=ETHUSDT&limit=1");
    expect([ag.data[0]?.first_trade_id, ag.data[0]?.last_trade_id]).toEqual([3, 5]);
  });
});

const oracleCandles = (ivUs: number, fromUs: number, toUs: number) =>
  oracleCandlesOf(h.fx.oracle, ivUs, fromUs, toUs);

describe("ohlcv", () => {
  const IV: [string, number, number][] = [
    ["1s", 1_000_000, 3 * 3_600_000_000],
    ["1m", 60_000_000, 4 * DAY],
    ["5m", 300_000_000, 4 * DAY],
    ["15m", 900_000_000, 4 * DAY],
    ["30m", 1_800_000_000, 4 * DAY],
    ["1h", 3_600_000_000, 4 * DAY],
    ["4h", 14_400_000_000, 4 * DAY],
    ["1d", DAY, 4 * DAY],
  ];
  for (const [iv, ivUs, span] of IV) {
    test(`${iv} candles equal the oracle to the last decimal (hot + cold)`, async () => {
      // The 1s window straddles the hot/cold split (id 105000 is on 2024-01-03 ~02:00Z).
      const from = iv === "1s" ? BASE_US + 2 * DAY + 3_600_000_000 : BASE_US;
      const p = await json(
        `/v1/ohlcv?symbol=BTCUSDT&interval=${iv}&start=${from / 1000}&end=${(from + span) / 1000}&limit=10000`,
      );
      const o = await oracleCandles(ivUs, from, from + span);
      expect(p.data.map(({ symbol, open_time_iso, ...rest }) => rest)).toEqual(o as never);
      expect(p.data.every((r) => (r.open_time_us as number) % ivUs === 0)).toBe(true);
      expect(p.next_cursor).toBeNull();
    });
  }

  test("fill=previous fills the 2-hour hole with the previous close and zero volume", async () => {
    const plain = await json(
      "/v1/ohlcv?symbol=BTCUSDT&interval=30m&start=2024-01-01T00:00:00Z&end=2024-01-01T06:00:00Z",
    );
    const filled = await json(
      "/v1/ohlcv?symbol=BTCUSDT&interval=30m&start=2024-01-01T00:00:00Z&end=2024-01-01T06:00:00Z&fill=previous",
    );
    expect(filled.data.length).toBeGreaterThan(plain.data.length);
    const times = filled.data.map((r) => r.open_time_us as number);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1_800_000_000);
    const byTime = new Map(plain.data.map((r) => [r.open_time_us, r]));
    filled.data.forEach((r, i) => {
      const real = byTime.get(r.open_time_us);
      if (real) expect(r).toEqual(real);
      else {
        const prev = filled.data[i - 1]!;
        expect([r.open, r.high, r.low, r.close, r.volume, r.trade_count, r.vwap]).toEqual([
          prev.close,
          prev.close,
          prev.close,
          prev.close,
          "0.00000000",
          0,
          null,
        ]);
      }
    });
  });

  test("candle cursor pages equal one big page, with fill carried across pages", async () => {
    const base =
      "/v1/ohlcv?symbol=BTCUSDT&interval=5m&start=2024-01-01T00:00:00Z&end=2024-01-01T12:00:00Z&fill=previous";
    const all = await json(`${base}&limit=10000`);
    const paged: Row[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await json(`${base}&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      paged.push(...p.data);
      cursor = p.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.data);
  });

  test("batch runs each query like GET /v1/ohlcv", async () => {
    const queries = [
      { symbol: "BTCUSDT", interval: "1h", start: "2024-01-02", end: "2024-01-03" },
      { symbol: "BTCUSDT", interval: "4h", fill: "previous", limit: 3 },
    ];
    const r = await h.app.handle(
      new Request("http://localhost/v1/ohlcv/batch", {
        method: "POST",
        body: JSON.stringify({ queries }),
        headers: { "content-type": "application/json" },
      }),
    );
    expect(r.status).toBe(200);
    const body = (await r.json()) as { data: Page[] };
    expect(body.data[0]!.data).toEqual(
      (await json("/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-02&end=2024-01-03")).data,
    );
    const second = await json("/v1/ohlcv?symbol=BTCUSDT&interval=4h&fill=previous&limit=3");
    expect(body.data[1]!.data).toEqual(second.data);
    expect(body.data[1]!.next_cursor).toBe(second.next_cursor);
  });
});

describe("summary, symbols, gaps", () => {
  test("daily summary equals the oracle's 1d candle and lists the day's gaps", async () => {
    const g = h.ledger.open("trades", "BTCUSDT", 50_000, 50_004, "stream", BASE_US);
    h.ledger.set(g, "repaired", BASE_US);
    h.ledger.open("trades", "BTCUSDT", 10, 12, "stream", BASE_US); // 2024-01-01: not in the day
    const p = await json("/v1/summary/BTCUSDT?date=2024-01-02");
    const [o] = await oracleCandles(DAY, BASE_US + DAY, BASE_US + 2 * DAY);
    const { symbol, date, gap_count, gap_ids, ...rest } = p.data[0]!;
    expect(rest).toEqual({ ...o, open_time_us: undefined } as never);
    expect([symbol, date, gap_count, gap_ids]).toEqual(["BTCUSDT", "2024-01-02", 1, 5]);
    expect(p.meta.gaps).toEqual([{ from_id: 50_000, to_id: 50_004, state: "repaired", cause: "stream" }]);
    const gaps = await json("/v1/gaps?symbol=BTCUSDT");
    expect(gaps.data.map((r) => [r.from_id, r.to_id, r.state])).toEqual([
      [50_000, 50_004, "repaired"],
      [10, 12, "pending"],
    ]);
    expect((await json("/v1/gaps?symbol=ETHUSDT")).data).toEqual([]);
  });

  test("symbols lists coverage per table including hot rows", async () => {
    const p = await json("/v1/symbols");
    const bt = p.data.find((r) => r.table === "trades" && r.symbol === "BTCUSDT")!;
    const [o] = await oracleRows(
      h.fx.oracle,
      "SELECT count(*), min(trade_id), max(trade_id), epoch_us(max(trade_time_us)) FROM t",
    );
    expect([bt.rows, bt.first_id, bt.last_id, bt.last_time_us, bt.files]).toEqual([
      Number(o![0]),
      Number(o![1]),
      Number(o![2]),
      Number(o![3]),
      6,
    ]);
    expect(p.data.map((r) => `${r.table}:${r.symbol}`).sort()).toEqual([
      "agg_trades:ETHUSDT",
      "quotes:ETHUSDT",
      "trades:BTCUSDT",
    ]);
  });
});

describe("headers and metrics", () => {
  test("X-Data-Freshness-Ms is the age of the symbol's newest row, on success and error", async () => {
    const [o] = await oracleRows(h.fx.oracle, "SELECT epoch_us(max(trade_time_us)) FROM t");
    const want = String(Math.round((h.engine.nowUs() - Number(o![0])) / 1000));
    expect((await h.get("/v1/trades?symbol=BTCUSDT&limit=1")).headers.get("x-data-freshness-ms")).toBe(want);
    expect((await h.get("/v1/trades?symbol=BTCUSDT&limit=0")).headers.get("x-data-freshness-ms")).toBe(want);
    expect((await h.get("/v1/summary/BTCUSDT?date=2024-01-01")).headers.get("x-data-freshness-ms")).toBe(
      want,
    );
    expect((await h.get("/v1/trades?symbol=SOLUSDT")).headers.get("x-data-freshness-ms")).toBe("-1");
  });

  test("/metrics has per-route latency histograms and query counts", async () => {
    await h.get("/v1/trades?symbol=BTCUSDT&limit=1");
    await Bun.sleep(5);
    const text = await (await h.get("/metrics")).text();
    expect(text).toMatch(/k2_api_trades_seconds_count [1-9]/);
    expect(text).toMatch(/k2_query_total [1-9]/);
    expect(text).toMatch(/k2_api_requests_total\{route="trades",status="2xx"\} [1-9]/);
  });
});
