/**
 * A run bounded on the simulator's clock, so "every trade once" is judged against the simulator's
 * whole ground truth, not a window of it: the market starts paused, K2 connects, the market
 * resumes (K2's first frame is the first trade ever generated); at the end the market pauses
 * again, K2 catches up with the last trade generated, and only then stops. Losing the first or
 * the last rows of a run then fails the comparison like any other loss.
 */
import { expect } from "bun:test";
import type { GroundTruth, Simulator } from "../../src/sim/index.ts";
import { storedTradeIds } from "./stored.ts";
import { waitUntil } from "./wait.ts";

export { waitUntil };

/** K2's env for a simulator on loopback, with timers short enough for tests. */
export function simEnv(
  s: { wsUrl: string; restUrl: string },
  symbols: readonly string[],
  extra: Record<string, string> = {},
) {
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

/**
 * Wait until the run's first trade of every symbol is in a Parquet file. Needed before a crash
 * or a fault: a K2 that never made a row durable cannot know, after a restart, that it had seen
 * it (nor could any recorder).
 */
export async function firstTradesDurable(s: Simulator, dataDir: string, symbols: readonly string[]) {
  const firstId = s.options.startTradeId;
  await waitUntil(
    async () => {
      const stored = await storedTradeIds(dataDir);
      return symbols.every((sym) => stored.get(sym)?.ids[0] === firstId);
    },
    10_000,
    "the first trades in Parquet",
  );
}

const ROUTE = { trades: "trades", agg_trades: "agg-trades" } as const;
const ID = { trades: "trade_id", agg_trades: "agg_trade_id" } as const;
export type Table = keyof typeof ROUTE;
/** Both tables by default; a run with K2_STREAMS=trade passes ["trades"]. */
const TABLES: readonly Table[] = ["trades", "agg_trades"];

/** Newest id K2 serves for (table, symbol) — hot rows included — or -1. */
export async function newestId(url: string, table: keyof typeof ROUTE, symbol: string): Promise<number> {
  // A refused connection (no listener for a moment) is "not there yet", like a non-200.
  const r = await fetch(`${url}/v1/${ROUTE[table]}?symbol=${symbol}&order=desc&limit=1`).catch(() => null);
  if (r?.status !== 200) return -1;
  const body = (await r.json()) as { data: Record<string, number>[] };
  return body.data[0]?.[ID[table]] ?? -1;
}

/** Tables a truth can be judged on; quotes need a simulator started with recordQuoteIds. */
export type TruthTable = Table | "quotes";

/**
 * Every id of the run the socket or REST can deliver, per table: trades less those missing at
 * the source, every aggTrade, every bookTicker update id sent (with recordQuoteIds).
 */
export function idsInTruth(gt: GroundTruth, table: TruthTable, symbol: string): number[] {
  const t = gt.symbols[symbol];
  if (!t) return [];
  const ranges = table === "trades" ? t.tradeIds : table === "agg_trades" ? t.aggIds : t.quoteIds;
  const missing = table === "trades" ? t.missingAtSourceTradeIds : [];
  const out: number[] = [];
  for (const [a, b] of ranges)
    for (let i = a; i <= b; i++) if (!missing.some(([x, y]) => x <= i && i <= y)) out.push(i);
  return out;
}

/** idsInTruth of an in-process simulator, now. */
export function wholeTruth(s: Simulator, table: TruthTable, symbol: string): number[] {
  return idsInTruth(s.groundTruth(), table, symbol);
}

/** Pause the market, then wait until K2 serves the last trade and aggTrade (or `tables`) of every symbol. */
export async function pauseAndCatchUp(
  s: Simulator,
  url: string,
  symbols: readonly string[],
  timeoutMs = 15_000,
  tables: readonly Table[] = TABLES,
) {
  s.faults.pause(true);
  for (const table of tables) {
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

export type Truth = Map<string, number[]>; // "table:SYMBOL" → ids, ascending

/** The simulator's whole ground truth for trades and aggTrades (or `tables`) of `symbols`. */
export function truthOf(
  s: Simulator | GroundTruth,
  symbols: readonly string[],
  tables: readonly TruthTable[] = TABLES,
): Truth {
  const gt = "symbols" in s ? s : s.groundTruth();
  const out: Truth = new Map();
  for (const table of tables)
    for (const sym of symbols) out.set(`${table}:${sym}`, idsInTruth(gt, table, sym));
  return out;
}

/** Several runs' truths as one (ids of later runs are higher, as on Binance). */
export function mergeTruths(...truths: Truth[]): Truth {
  const out: Truth = new Map();
  for (const t of truths) for (const [k, ids] of t) out.set(k, [...(out.get(k) ?? []), ...ids]);
  for (const ids of out.values()) ids.sort((a, b) => a - b);
  return out;
}

/** Stored ids (read by DuckDB) equal `want` exactly, per "table:SYMBOL": each once, none missing. */
export async function expectStored(dataDir: string, want: Truth) {
  const out = new Map<string, number[]>();
  const stored = new Map<string, Awaited<ReturnType<typeof storedTradeIds>>>();
  for (const [key, ids] of want) {
    const [table, sym] = key.split(":") as [TruthTable, string];
    if (!stored.has(table)) stored.set(table, await storedTradeIds(dataDir, table));
    const got = stored.get(table)!.get(sym);
    expect({ key, rows: got?.rows }).toEqual({ key, rows: got?.distinct }); // no duplicates
    expect(ids.length).toBeGreaterThan(0);
    // toEqual on long arrays prints poorly: report the first difference instead.
    const have = got?.ids ?? [];
    const i = firstDifference(have, ids);
    expect({ key, index: i, stored: have[i], truth: ids[i], count: have.length }).toEqual({
      key,
      index: -1,
      stored: undefined,
      truth: undefined,
      count: ids.length,
    });
    out.set(key, have);
  }
  return out;
}

/** Stored trades and aggTrades equal the simulator's whole ground truth, once each. */
export function expectWholeTruth(dataDir: string, s: Simulator, symbols: readonly string[]) {
  return expectStored(dataDir, truthOf(s, symbols));
}

function firstDifference(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}
