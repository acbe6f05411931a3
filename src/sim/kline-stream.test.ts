/**
 * `<symbol>@kline_1m` over a real WebSocket on 127.0.0.1: Binance's frame shape, the closed
 * minute's f/L/n/OHLC/v/q equal to the simulator's own trades (read back over REST), both time
 * units, and the fault that makes one kline's count disagree with its trades. The clock starts
 * one second before a minute boundary: a minute closes soon, and a loaded machine still has time
 * to subscribe before it does (a missed close would mean waiting a whole minute for the next).
 */
import { afterEach, expect, test } from "bun:test";
import { DECIMAL_FACTOR, formatDecimal, parseDecimal } from "../model/decimal.ts";
import { type Simulator, startSimulator } from "./index.ts";

const BOUNDARY_MS = Date.UTC(2025, 0, 2, 0, 1);
const LEAD_MS = 1000;
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

interface KlineFrame {
  e: string;
  E: number;
  s: string;
  k: Record<string, string | number | boolean>;
}

/** The first closed kline frame on `url` (raw or combined), within 5 s. */
function firstClosed(url: string): Promise<{ frame: KlineFrame; raw: string; updates: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let updates = 0;
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("no closed kline within 5 s"));
    }, 5000);
    ws.onmessage = (m) => {
      const raw = String(m.data);
      const parsed = JSON.parse(raw) as KlineFrame | { stream: string; data: KlineFrame };
      const frame = "data" in parsed ? parsed.data : parsed;
      if (frame.k.x !== true) {
        updates++;
        return;
      }
      clearTimeout(timer);
      ws.close();
      resolve({ frame, raw, updates });
    };
  });
}

async function tradesOfMinute(
  f: number,
  l: number,
): Promise<Array<{ id: number; price: string; qty: string }>> {
  const r = await fetch(`${sim!.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${f}&limit=1000`);
  const rows = (await r.json()) as Array<{ id: number; price: string; qty: string; isBuyerMaker: boolean }>;
  return rows.filter((t) => t.id <= l);
}

test("a closed minute in Binance's shape, equal to the simulator's trades, in ms and µs", async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: BOUNDARY_MS - LEAD_MS,
    ratePerSec: 200,
    startTradeId: 1,
  });
  const [ms, us] = await Promise.all([
    firstClosed(`${sim.wsUrl}/ws/btcusdt@kline_1m`),
    firstClosed(`${sim.wsUrl}/stream?streams=btcusdt@kline_1m&timeUnit=MICROSECOND`),
  ]);
  const k = ms.frame.k;
  expect(Object.keys(ms.frame)).toEqual(["e", "E", "s", "k"]);
  expect(Object.keys(k)).toEqual([
    "t",
    "T",
    "s",
    "i",
    "f",
    "L",
    "o",
    "c",
    "h",
    "l",
    "v",
    "n",
    "x",
    "q",
    "V",
    "Q",
    "B",
  ]);
  expect([ms.frame.e, ms.frame.s, k.s, k.i, k.t, k.T]).toEqual([
    "kline",
    "BTCUSDT",
    "BTCUSDT",
    "1m",
    BOUNDARY_MS - 60_000,
    BOUNDARY_MS - 1,
  ]);
  expect(ms.frame.E).toBeGreaterThanOrEqual(BOUNDARY_MS);
  expect([us.frame.k.t, us.frame.k.T]).toEqual([(BOUNDARY_MS - 60_000) * 1000, BOUNDARY_MS * 1000 - 1]);
  expect({ ...us.frame.k, t: 0, T: 0 }).toEqual({ ...k, t: 0, T: 0 }); // same minute, other unit
  const trades = await tradesOfMinute(k.f as number, k.L as number);
  expect(k.f).toBe(1);
  expect(trades.length).toBe(k.n as number);
  expect(trades.length).toBeGreaterThan(50); // ≈ 200/s × 1 s
  const p = trades.map((t) => parseDecimal(t.price)!);
  const q = trades.map((t) => parseDecimal(t.qty)!);
  expect([k.o, k.c]).toEqual([trades[0]!.price, trades.at(-1)!.price]);
  const sorted = [...p].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  expect([k.l, k.h]).toEqual([formatDecimal(sorted[0]!), formatDecimal(sorted.at(-1)!)]);
  expect(k.v).toBe(formatDecimal(q.reduce((a, b) => a + b, 0n)));
  expect(k.q).toBe(formatDecimal(p.reduce((s, pi, i) => s + (pi * q[i]!) / DECIMAL_FACTOR, 0n)));
  expect(k.L).toBe(trades.at(-1)!.id);
});

test("klineCountOff: the next closed minute's n disagrees with its trades, and the simulator says which", async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: BOUNDARY_MS - LEAD_MS,
    ratePerSec: 200,
    startTradeId: 1,
  });
  sim.faults.klineCountOff(-3, "BTCUSDT");
  const { frame } = await firstClosed(`${sim.wsUrl}/ws/btcusdt@kline_1m`);
  const trades = await tradesOfMinute(frame.k.f as number, frame.k.L as number);
  expect(frame.k.n).toBe(trades.length - 3);
  expect(sim.falsifiedKlines("BTCUSDT")).toEqual([
    { openUs: (BOUNDARY_MS - 60_000) * 1000, trueCount: trades.length, sentCount: trades.length - 3 },
  ]);
  expect(() => sim!.applyFaults({ klineCountOff: { delta: 0 } })).toThrow(/klineCountOff/);
});
