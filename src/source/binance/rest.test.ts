/**
 * BinanceRest.firstAggTradeBetween against a hand-made aggTrades endpoint on 127.0.0.1 that holds
 * trades only from a given time on: the search walks one-hour windows (Binance refuses wider ones)
 * oldest first and stops at the first window that holds a trade.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BinanceRest } from "./rest.ts";

const HOUR_MS = 3_600_000;
/** The endpoint's only trades: one every minute from hour 3 (in ms; µs clients get them × 1000). */
const FIRST_TRADE_MS = 3 * HOUR_MS + 17_000;
let server: ReturnType<typeof Bun.serve>;
const asked: { start: number; end: number; micros: boolean }[] = [];

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      if (u.pathname !== "/api/v3/aggTrades") return new Response("not found", { status: 404 });
      const micros = req.headers.get("X-MBX-TIME-UNIT") === "MICROSECOND";
      const scale = micros ? 1000 : 1;
      const start = Number(u.searchParams.get("startTime"));
      const end = Number(u.searchParams.get("endTime"));
      asked.push({ start, end, micros });
      if (end - start > HOUR_MS * scale)
        return Response.json(
          { code: -1127, msg: "More than 1 hours between startTime and endTime." },
          { status: 400 },
        );
      const firstMinute = Math.max(Math.ceil((start / scale - FIRST_TRADE_MS) / 60_000), 0);
      const t = (FIRST_TRADE_MS + firstMinute * 60_000) * scale;
      const body =
        t <= end ? [{ a: 100 + firstMinute, p: "1.0", q: "1.0", f: 7, l: 7, T: t, m: true, M: true }] : [];
      return Response.json(body);
    },
  });
});
afterAll(() => server.stop(true));

describe("firstAggTradeBetween: the first aggregate by time, one hour at a time", () => {
  test("a quiet start: hours 0–2 asked and empty, hour 3 holds the answer; every window ≤ 1 h", async () => {
    asked.length = 0;
    const rest = new BinanceRest({ baseUrl: `http://127.0.0.1:${server.port}` });
    const first = await rest.firstAggTradeBetween("BTCUSDT", 0, 10 * HOUR_MS);
    expect(first?.T).toBe(FIRST_TRADE_MS);
    expect(asked.map((a) => a.start)).toEqual([0, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS]);
    expect(asked.every((a) => a.end - a.start === HOUR_MS - 1)).toBe(true);
  });

  test("nothing in range: undefined, and the last window ends at the range's end", async () => {
    asked.length = 0;
    const rest = new BinanceRest({ baseUrl: `http://127.0.0.1:${server.port}` });
    expect(await rest.firstAggTradeBetween("BTCUSDT", 0, 2.5 * HOUR_MS)).toBeUndefined();
    expect(asked.map((a) => [a.start, a.end])).toEqual([
      [0, HOUR_MS - 1],
      [HOUR_MS, 2 * HOUR_MS - 1],
      [2 * HOUR_MS, 2.5 * HOUR_MS],
    ]);
  });

  test("a µs client walks µs hours", async () => {
    asked.length = 0;
    const rest = new BinanceRest({ baseUrl: `http://127.0.0.1:${server.port}`, microseconds: true });
    const first = await rest.firstAggTradeBetween("BTCUSDT", 2 * HOUR_MS * 1000, 5 * HOUR_MS * 1000);
    expect(first?.T).toBe(FIRST_TRADE_MS * 1000);
    expect(asked.map((a) => a.micros)).toEqual([true, true]);
    expect(asked.map((a) => a.start)).toEqual([2 * HOUR_MS * 1000, 3 * HOUR_MS * 1000]);
  });
});
