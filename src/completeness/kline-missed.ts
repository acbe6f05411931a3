/**
 * Kline minutes the stream did not give K2 (issue 17): a closed kline arrives only on the
 * socket, so the minutes K2 was down for, and those it had queued but not judged when it
 * stopped, have no verdict. After a start K2 asks REST for them. GET /api/v3/klines has each
 * minute's count and OHLCV but no trade ids, so the ids come from aggTrades by time: the first
 * aggregate of the minute opens its range, the first one after the minute closes it. Each minute
 * then goes through the same check as a live one (kline-reconciler.ts).
 */
import { readdirSync } from "node:fs";
import { parseDecimal } from "../model/decimal.ts";
import type { RestAggTrade, RestKline } from "../source/binance/rest.ts";
import type { KlineFacts } from "./kline-check.ts";
import { klineVerdictDir, readVerdicts } from "./kline-verdicts.ts";

const MINUTE_US = 60_000_000;
/** Minutes before the last verdict searched for holes (minutes queued but not judged at a stop). */
export const MISSED_LOOKBACK_MINUTES = 60;
/** At most this many missed minutes per symbol are fetched at a start (the newest); a day. */
export const MISSED_MAX_MINUTES = 1440;
/** How far past a minute its closing aggregate is looked for (Binance: ≤ 1 h per request). */
const AFTER_MS = 3_600_000;

/** What the catch-up asks of Binance's REST (src/source/binance/rest.ts). */
export interface MissedRest {
  klines1m(symbol: string, startMs: number, endMs: number, limit?: number): Promise<RestKline[]>;
  firstAggTradeBetween(symbol: string, startMs: number, endMs: number): Promise<RestAggTrade | undefined>;
  aggTrades(symbol: string, fromId: number, limit?: number): Promise<RestAggTrade[]>;
}

export interface RestMinute extends KlineFacts {
  readonly openUs: number;
  readonly closeUs: number;
}

/**
 * Open times (µs, ascending) of minutes without a verdict: after the last judged minute up to the
 * one before `firstLiveOpenUs` (the first kline this run received: that minute and later ones come
 * live), and holes among the last MISSED_LOOKBACK_MINUTES judged ones (never before the first
 * verdict there: K2 did not record earlier minutes). None without any verdict.
 */
export function missedMinutes(dataDir: string, symbol: string, firstLiveOpenUs: number): number[] {
  let dates: string[];
  try {
    dates = readdirSync(klineVerdictDir(dataDir, symbol))
      .filter((f) => f.endsWith(".ndjson"))
      .map((f) => f.slice(0, -".ndjson".length))
      .sort();
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return [];
    throw e;
  }
  const judged = new Set<number>();
  for (const d of dates.slice(-2))
    for (const m of readVerdicts(dataDir, symbol, d).minutes) judged.add(m.open_time_us);
  if (judged.size === 0) return [];
  const last = Math.max(...judged);
  const from = Math.max(Math.min(...judged), last - MISSED_LOOKBACK_MINUTES * MINUTE_US);
  const out: number[] = [];
  for (let t = from; t < firstLiveOpenUs; t += MINUTE_US) if (!judged.has(t)) out.push(t);
  return out.slice(-MISSED_MAX_MINUTES);
}

/** The REST klines of `opens` (ascending minute open times, µs), in requests of ≤ 1000 minutes. */
export async function restKlines(
  rest: MissedRest,
  symbol: string,
  opens: readonly number[],
): Promise<RestKline[]> {
  const want = new Set(opens);
  const out: RestKline[] = [];
  for (let i = 0; i < opens.length; ) {
    const startMs = opens[i]! / 1000;
    const endMs = Math.min(startMs + 1000 * 60_000 - 1, opens.at(-1)! / 1000 + 59_999);
    for (const k of await rest.klines1m(symbol, startMs, endMs, 1000)) if (want.has(k[0] * 1000)) out.push(k);
    while (i < opens.length && opens[i]! / 1000 <= endMs) i++;
  }
  return out;
}

/** One REST kline as the facts the check compares, its trade ids found from aggTrades. */
export async function restMinute(rest: MissedRest, symbol: string, k: RestKline): Promise<RestMinute> {
  const dec = (text: string, what: string): bigint => {
    const v = parseDecimal(text);
    if (v === null) throw new Error(`REST kline ${k[0]}: ${what} is not a decimal: ${JSON.stringify(text)}`);
    return v;
  };
  const [openMs, , , , , , closeMs] = k;
  const count = k[8];
  const ids = count === 0 ? { firstId: -1, lastId: -1 } : await idsOf(rest, symbol, openMs, closeMs);
  return {
    openUs: openMs * 1000,
    closeUs: closeMs * 1000 + 999,
    ...ids,
    count,
    open: dec(k[1], "open"),
    high: dec(k[2], "high"),
    low: dec(k[3], "low"),
    close: dec(k[4], "close"),
    volume: dec(k[5], "volume"),
    quoteVolume: dec(k[7], "quote volume"),
  };
}

/** [first, last] trade id of a minute: its first aggregate's `f`; the next aggregate's `f` − 1. */
async function idsOf(rest: MissedRest, symbol: string, openMs: number, closeMs: number) {
  const first = await rest.firstAggTradeBetween(symbol, openMs, closeMs);
  if (!first)
    throw new Error(`REST: no aggregate trade in the minute at ${openMs}, whose kline counts trades`);
  const next = await rest.firstAggTradeBetween(symbol, closeMs + 1, closeMs + AFTER_MS);
  if (next) return { firstId: first.f, lastId: next.f - 1 };
  // Nothing traded for an hour after the minute: its own aggregates, page by page, give the last id.
  let lastId = first.l;
  for (let from = first.a + 1; ; ) {
    const page = await rest.aggTrades(symbol, from, 1000);
    const inMinute = page.filter((a) => a.T <= closeMs);
    if (inMinute.length > 0) lastId = inMinute.at(-1)!.l;
    if (inMinute.length < page.length || page.length < 1000) return { firstId: first.f, lastId };
    from = page.at(-1)!.a + 1;
  }
}
