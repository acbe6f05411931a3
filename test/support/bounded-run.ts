/**
 * A run bounded on the simulator's clock, so "every trade once" is judged against the simulator's
 * whole ground truth, not a window of it: the market starts paused, K2 connects, the market
 * resumes (K2's first frame is the first trade ever generated); at the end the market pauses
 * again, K2 catches up with the last trade generated, and only then stops. Losing the first or
 * the last rows of a run then fails the comparison like any other loss.
 */
import { expect } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { deliverableIds } from "./source-harness.ts";
import { storedTradeIds } from "./stored.ts";

export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** K2's env for a simulator on loopback, with timers short enough for tests. */
export function simEnv(s: Simulator, symbols: readonly string[], extra: Record<string, string> = {}) {
  return {
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: s.wsUrl,
    K2_BINANCE_REST_URL: s.restUrl,
    K2_SYMBOLS: symbols.join(","),
    K2_FLUSH_INTERVAL_MS: "300",
    K2_CONNECT_MIN_INTERVAL_MS: "0",
    K2_RECONNECT_BASE_MS: "50",
    K2_RECONNECT_MAX_MS: "500",
    K2_WAL_FSYNC_MS: "20",
    K2_QUERY_MEMORY_MB: "128",
    ...extra,
  };
}

/** Resume a paused market once `connections` WebSocket sessions are open (K2 subscribes on open). */
export async function resumeWhenConnected(s: Simulator, connections = 1, timeoutMs = 10_000) {
  await waitUntil(() => s.stats().connections >= connections, timeoutMs, "K2's WebSocket session");
  s.faults.pause(false);
}

const ROUTE = { trades: "trades", agg_trades: "agg-trades" } as const;
const ID = { trades: "trade_id", agg_trades: "agg_trade_id" } as const;

/** Newest id K2 serves for (table, symbol) — hot rows included — or -1. */
export async function newestId(url: string, table: keyof typeof ROUTE, symbol: string): Promise<number> {
  const r = await fetch(`${url}/v1/${ROUTE[table]}?symbol=${symbol}&order=desc&limit=1`);
  if (r.status !== 200) return -1;
  const body = (await r.json()) as { data: Record<string, number>[] };
  return body.data[0]?.[ID[table]] ?? -1;
}

/** Every id of the run the socket or REST can deliver, per table. */
export function wholeTruth(s: Simulator, table: keyof typeof ROUTE, symbol: string): number[] {
  if (table === "trades") return deliverableIds(s, symbol, 0, Number.MAX_SAFE_INTEGER);
  const out: number[] = [];
  for (const [a, b] of s.groundTruth().symbols[symbol]?.aggIds ?? [])
    for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/** Pause the market, then wait until K2 serves the last trade and aggTrade of every symbol. */
export async function pauseAndCatchUp(
  s: Simulator,
  url: string,
  symbols: readonly string[],
  timeoutMs = 15_000,
) {
  s.faults.pause(true);
  for (const table of ["trades", "agg_trades"] as const) {
    for (const sym of symbols) {
      const last = wholeTruth(s, table, sym).at(-1) ?? -1;
      await waitUntil(
        async () => (await newestId(url, table, sym)) >= last,
        timeoutMs,
        `${table} ${sym} #${last}`,
      );
    }
  }
}

/** Stored trades and aggTrades (read by DuckDB) equal the simulator's whole ground truth, once each. */
export async function expectWholeTruth(dataDir: string, s: Simulator, symbols: readonly string[]) {
  const out = new Map<string, number[]>();
  for (const table of ["trades", "agg_trades"] as const) {
    const stored = await storedTradeIds(dataDir, table);
    for (const sym of symbols) {
      const got = stored.get(sym);
      expect(got?.rows).toBe(got?.distinct); // no duplicates
      const want = wholeTruth(s, table, sym);
      expect(want.length).toBeGreaterThan(0);
      // toEqual on long arrays prints poorly: report the first difference instead.
      const ids = got?.ids ?? [];
      const i = firstDifference(ids, want);
      expect({ table, symbol: sym, index: i, stored: ids[i], truth: want[i], count: ids.length }).toEqual({
        table,
        symbol: sym,
        index: -1,
        stored: undefined,
        truth: undefined,
        count: want.length,
      });
      out.set(`${table}:${sym}`, ids);
    }
  }
  return out;
}

function firstDifference(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}
