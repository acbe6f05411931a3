import { afterEach, describe, expect, test } from "bun:test";
import { type SimOptionsInput, type Simulator, startSimulator } from "./index.ts";
import { WeightLimiter } from "./rest-limits.ts";
import { waitFor } from "./test-client.ts";

let sim: Simulator | undefined;

async function start(o: SimOptionsInput = {}): Promise<Simulator> {
  sim = await startSimulator({ ratePerSec: 1000, tickMs: 5, symbols: ["BTCUSDT", "PEPEUSDT"], ...o });
  return sim;
}
const get = (path: string, init?: RequestInit) => fetch(`${sim!.restUrl}${path}`, init);
const weight = (r: Response) => Number(r.headers.get("X-MBX-USED-WEIGHT-1M"));

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("REST market data", () => {
  test("ping, time, exchangeInfo and their weights (1, 1, 20)", async () => {
    await start({ startTimeMs: 1_600_000_000_000 });
    const ping = await get("/api/v3/ping");
    expect(await ping.json()).toEqual({});
    expect(weight(ping)).toBe(1);
    const time = await get("/api/v3/time");
    const serverTime = ((await time.json()) as { serverTime: number }).serverTime;
    expect(serverTime).toBeGreaterThanOrEqual(1_600_000_000_000);
    expect(serverTime).toBeLessThan(1_600_000_100_000);
    expect(weight(time)).toBe(2);
    const info = await get("/api/v3/exchangeInfo");
    expect(weight(info)).toBe(22);
    const body = (await info.json()) as {
      symbols: Array<{ symbol: string; filters: Array<Record<string, string>> }>;
    };
    expect(body.symbols.map((s) => s.symbol)).toEqual(["BTCUSDT", "PEPEUSDT"]);
    const pepe = body.symbols[1]!.filters.find((f) => f.filterType === "PRICE_FILTER")!;
    expect(pepe.tickSize).toBe("0.00000001");
    const one = (await (await get("/api/v3/exchangeInfo?symbol=BTCUSDT")).json()) as { symbols: unknown[] };
    expect(one.symbols.length).toBe(1);
  });

  test("historicalTrades: fromId, limit default 500 and cap 1000, weight 25, µs via X-MBX-TIME-UNIT", async () => {
    await start({ startTradeId: 1, ratePerSec: 5000 });
    await waitFor(() => sim!.groundTruth().symbols.BTCUSDT!.tradeCount >= 1100, 5000, "1100 trades");
    const r = await get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=10&limit=3");
    expect(weight(r)).toBe(25);
    const rows = (await r.json()) as Array<Record<string, unknown>>;
    expect(rows.map((x) => x.id)).toEqual([10, 11, 12]);
    expect(Object.keys(rows[0]!)).toEqual([
      "id",
      "price",
      "qty",
      "quoteQty",
      "time",
      "isBuyerMaker",
      "isBestMatch",
    ]);
    const p = Number(rows[0]!.price);
    const q = Number(rows[0]!.qty);
    expect(Number(rows[0]!.quoteQty)).toBeCloseTo(p * q, 6);
    expect(
      ((await (await get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1")).json()) as unknown[]).length,
    ).toBe(500);
    const big = (await (
      await get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=5000")
    ).json()) as unknown[];
    expect(big.length).toBe(1000);
    const us = (await (
      await get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=10&limit=1", {
        headers: { "X-MBX-TIME-UNIT": "MICROSECOND" },
      })
    ).json()) as Array<{ time: number }>;
    expect(Math.floor(us[0]!.time / 1000)).toBe(rows[0]!.time as number);
    const recent = (await (await get("/api/v3/trades?symbol=BTCUSDT&limit=2")).json()) as Array<{
      id: number;
    }>;
    expect(recent[1]!.id - recent[0]!.id).toBe(1);
  });

  test("aggTrades: fromId and startTime/endTime; f..l match historicalTrades; weight 4", async () => {
    await start({ startAggId: 1, startTradeId: 1, startTimeMs: 1_600_000_000_000 });
    await waitFor(() => sim!.groundTruth().symbols.BTCUSDT!.aggCount >= 50, 3000, "50 aggs");
    const r = await get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=5&limit=10");
    expect(weight(r)).toBe(4);
    const aggs = (await r.json()) as Array<{ a: number; f: number; l: number; p: string; T: number }>;
    expect(aggs.map((a) => a.a)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    const trades = (await (
      await get(
        `/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${aggs[0]!.f}&limit=${aggs[9]!.l - aggs[0]!.f + 1}`,
      )
    ).json()) as Array<{ id: number; price: string }>;
    for (const a of aggs) {
      for (const t of trades.filter((t) => t.id >= a.f && t.id <= a.l)) expect(t.price).toBe(a.p);
    }
    expect(trades.length).toBe(aggs[9]!.l - aggs[0]!.f + 1);
    const byTime = (await (
      await get(`/api/v3/aggTrades?symbol=BTCUSDT&startTime=${aggs[2]!.T}&endTime=${aggs[4]!.T}`)
    ).json()) as Array<{ a: number; T: number }>;
    expect(byTime.length).toBeGreaterThan(0);
    for (const a of byTime) {
      expect(a.T).toBeGreaterThanOrEqual(aggs[2]!.T);
      expect(a.T).toBeLessThanOrEqual(aggs[4]!.T);
    }
  });

  test("klines: closed 1m minutes as arrays, equal to the trades of each minute; weight 2", async () => {
    // A minute boundary 1 s after start: the minute in progress then closes.
    const boundary = Date.UTC(2025, 0, 2, 0, 2);
    await start({ startTradeId: 1, startTimeMs: boundary - 1000, ratePerSec: 300 }); // < 1000 trades: one page
    await waitFor(() => sim!.nowMs() > boundary + 300, 5000, "a minute closed");
    const r = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${boundary - 120_000}&limit=5`);
    expect(weight(r)).toBe(2);
    const ks = (await r.json()) as (string | number)[][];
    expect(ks.map((k) => k[0])).toEqual([boundary - 60_000]);
    expect(ks[0]![8]).toBeGreaterThan(50);
    for (const k of ks) {
      expect(k[6]).toBe((k[0] as number) + 59_999);
      const trades = (await (
        await get(`/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=1000`)
      ).json()) as {
        price: string;
        qty: string;
        time: number;
      }[];
      const inMinute = trades.filter((t) => t.time >= (k[0] as number) && t.time <= (k[6] as number));
      expect(k[8]).toBe(inMinute.length);
      if (inMinute.length > 0) {
        expect(k[1]).toBe(inMinute[0]!.price);
        expect(k[4]).toBe(inMinute.at(-1)!.price);
      }
    }
    const bad = await get("/api/v3/klines?symbol=BTCUSDT&interval=5m");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: number }).code).toBe(-1120);
  });

  test.each([
    ["/api/v3/historicalTrades", -1102],
    ["/api/v3/historicalTrades?symbol=btcusdt", -1100],
    ["/api/v3/historicalTrades?symbol=NOPEUSDT", -1121],
    ["/api/v3/aggTrades?symbol=BTCUSDT&fromId=abc", -1100],
    ["/api/v3/aggTrades?symbol=BTCUSDT&limit=0", -1130],
    ["/api/v3/exchangeInfo?symbol=ZZZ", -1121],
  ])("%s → 400 with Binance error %p", async (path, code) => {
    await start();
    const r = await get(path);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { code: number; msg: string };
    expect(body.code).toBe(code);
    expect(body.msg.length).toBeGreaterThan(5);
  });
});

describe("REST weight limits", () => {
  test("windows, strikes and bans on an injected clock (WeightLimiter)", () => {
    // Exact boundaries, which a wall clock cannot pin down: windows of 400 ms aligned to the clock.
    const l = new WeightLimiter({ limit: 60, windowMs: 400, strikesBeforeBan: 1, banMs: 300 });
    expect(l.charge("ip", 25, 1_000)).toMatchObject({ status: 200, used: 25 }); // window [800, 1200)
    expect(l.charge("ip", 25, 1_100)).toMatchObject({ status: 200, used: 50 });
    expect(l.charge("ip", 25, 1_199)).toMatchObject({ status: 429, untilMs: 1_200, retryAfterS: 1 });
    expect(l.charge("other", 25, 1_199)).toMatchObject({ status: 200, used: 25 }); // per IP
    expect(l.charge("ip", 1, 1_199)).toMatchObject({ status: 429, untilMs: 1_200 }); // strike 1
    expect(l.charge("ip", 1, 1_199)).toMatchObject({ status: 418, untilMs: 1_499 }); // strike 2: ban
    expect(l.charge("ip", 1, 1_200)).toMatchObject({ status: 418, used: 0 }); // new window, still banned
    expect(l.charge("ip", 1, 1_498)).toMatchObject({ status: 418, untilMs: 1_499 });
    expect(l.charge("ip", 1, 1_499)).toMatchObject({ status: 200, used: 1 }); // ban over, window [1200, 1600)
    expect(l.charge("ip", 59, 1_599)).toMatchObject({ status: 200, used: 60 });
    expect(l.charge("ip", 60, 1_600)).toMatchObject({ status: 200, used: 60 }); // reset exactly at 1600
  });

  test("over the budget → 429 + Retry-After; calling on → 418 ban; the window resets", async () => {
    // Windows are aligned to the simulator clock (epoch ms % window). A clock that starts on a
    // window boundary puts the calls below in the first window with no wait for alignment; 2 s
    // is far more than six loopback calls take, and the test checks that it held.
    const startMs = 1_600_000_000_000;
    const windowMs = 2_000;
    await start({
      startTimeMs: startMs,
      restWeightLimit: 60,
      restWeightWindowMs: windowMs,
      restStrikesBeforeBan: 1,
      restBanMs: 300,
    });
    expect((await get("/api/v3/historicalTrades?symbol=BTCUSDT")).status).toBe(200);
    expect(weight(await get("/api/v3/historicalTrades?symbol=BTCUSDT"))).toBe(50);
    const over = await get("/api/v3/historicalTrades?symbol=BTCUSDT");
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(((await over.json()) as { code: number }).code).toBe(-1003);
    expect((await get("/api/v3/ping")).status).toBe(429); // strike 1: tolerated
    const banned = await get("/api/v3/ping"); // strike 2: banned
    expect(banned.status).toBe(418);
    const windowEndMs = startMs + windowMs;
    // The premise of the verdicts above: all six calls were charged in the first window.
    expect(sim!.nowMs()).toBeLessThan(windowEndMs);
    const bannedUntilMs = Number(/banned until (\d+)/.exec(await banned.text())?.[1]);
    expect(bannedUntilMs).toBeGreaterThan(startMs);
    // Wait on the simulator's clock, not a fixed sleep, until the ban and the window are over.
    const freeAtMs = Math.max(bannedUntilMs, windowEndMs);
    await waitFor(() => sim!.nowMs() >= freeAtMs, 10_000, "the ban and the window to end");
    const back = await get("/api/v3/ping");
    expect(back.status).toBe(200);
    expect(weight(back)).toBe(1);
    expect(sim!.stats().rest).toMatchObject({ status429: 2, status418: 1 });
  });

  test("forced REST faults: 500, 429, 418 and slow answers", async () => {
    await start();
    sim!.faults.rest({ status: 500 });
    expect((await get("/api/v3/ping")).status).toBe(500);
    sim!.faults.rest({ status: 429 });
    const r = await get("/api/v3/ping");
    expect(r.status).toBe(429);
    expect(r.headers.get("Retry-After")).toBe("1");
    sim!.faults.rest({ status: 418 });
    expect((await get("/api/v3/ping")).status).toBe(418);
    sim!.faults.rest({ status: 0, delayMs: 120 });
    const t0 = performance.now();
    expect((await get("/api/v3/ping")).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });
});
