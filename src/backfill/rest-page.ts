/**
 * Reading one UTC day of trades or aggTrades from Binance's REST API (rest-day.ts stores them):
 *   0. the exchange's clock (GET /api/v3/time, weight 1), asked before the stored ids are read:
 *      a day whose end is more than the margin behind it is over; of a day still open only the
 *      rows older than (clock − margin) are read, so a row the live process received but has not
 *      flushed yet (K2_FLUSH_INTERVAL_MS) is never fetched beside it;
 *   1. where the day starts: the first aggTrade with T ≥ midnight, asked by time one hour at a
 *      time (Binance allows at most one hour between startTime and endTime; weight 4 each);
 *   2. that the start is really there: for aggTrades the aggregate before it (id a − 1, older
 *      than midnight) must be served too, for trades the first page must begin at the first
 *      aggTrade's first trade id `f` — otherwise REST's history no longer reaches the day's start
 *      and the day is refused as unavailable (no half day is committed);
 *   3. the day's rows paged by fromId (aggTrades weight 4, historicalTrades weight 25, 1000 rows
 *      a page) until a row's time passes the day's end (or, for an open day, the cutoff) or REST
 *      has no newer rows.
 * The client (source/binance/rest.ts) keeps the weight budget and turns 429/418 into a wait for
 * Retry-After before its next request; here a call that failed is asked again (bounded).
 */
import { US_PER_DAY } from "../sink/parquet/index.ts";
import { type BinanceRest, REST_MAX_LIMIT, RestError } from "../source/binance/rest.ts";
import type { BackfillTable } from "./plan.ts";

/**
 * How far behind the exchange's clock an open day is read: rows newer than this may still sit in
 * a running K2's batcher (K2_FLUSH_INTERVAL_MS, default 1 s) and would be fetched beside it.
 */
export const OPEN_DAY_MARGIN_MS = 60_000;
/** Below this a server time is in ms (the µs header ignored), above it µs. */
const US_THRESHOLD = 1e14;
/** Failed calls (5xx, network, timeout) retried before the day fails. */
export const REST_MAX_ATTEMPTS = 8;
/** 429/418 answers waited out (each for its Retry-After) before the day fails. */
export const REST_MAX_RATE_LIMITS = 60;
/** Pages per day at most (100 M rows): a loop that cannot end is a bug, not a busy day. */
const MAX_PAGES_PER_DAY = 100_000;

/** One REST row as the backfill stores it (times in µs: the client asks for µs). */
export interface RestRow {
  id: number;
  price: string;
  qty: string;
  timeUs: number;
  buyerMaker: boolean;
  firstId: number;
  lastId: number;
}

/** A day REST cannot give whole (its start is no longer served, ids out of order). */
export class RestDayError extends Error {
  readonly kind = "unavailable";
  readonly retryable = false;
}

export interface DayRead {
  /** The day was over at the source (by its clock): every row of the day was read. */
  readonly complete: boolean;
  /** Rows of the day read (the caller stored or skipped each). */
  readonly rows: number;
  /** Every row up to this time (µs) was read: the day's last µs, or an open day's cutoff. */
  readonly throughUs: number;
  /** Ids inside the day REST skipped (exchange-side discontinuities): reported, not invented. */
  readonly missingAtSource: number;
}

export interface RetryOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly retryDelayMs?: (attempt: number) => number;
}

export interface ReadDayOptions extends RetryOptions {
  readonly rest: BinanceRest;
  readonly table: BackfillTable;
  readonly symbol: string;
  readonly dayStartUs: number;
  /** The exchange's clock (sourceNowUs), asked before the caller read the stored ids. */
  readonly nowUs: number;
  readonly openDayMarginMs?: number;
  /** Each row of the day, in id order. */
  readonly onRow: (r: RestRow) => void;
  /** Share of the day read so far (0..1), by time: what the progress bar's ETA is built from. */
  readonly onProgress?: (fraction: number) => void;
}

/** A REST call, asked again after a retryable failure: 429/418 wait in the client, others back off. */
async function call<T>(o: RetryOptions, fn: () => Promise<T>): Promise<T> {
  let failures = 0;
  let limited = 0;
  const sleep = o.sleep ?? Bun.sleep;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof RestError) || !e.retryable) throw e;
      if (e.kind === "rate_limited" || e.kind === "banned") {
        // The client blocks its next request until Retry-After has passed: no wait of our own.
        if (++limited >= REST_MAX_RATE_LIMITS) throw e;
        continue;
      }
      if (++failures >= REST_MAX_ATTEMPTS) throw e;
      await sleep(o.retryDelayMs?.(failures) ?? Math.min(30_000, 250 * 2 ** failures));
    }
  }
}

function fromTrade(t: {
  id: number;
  price: string;
  qty: string;
  time: number;
  isBuyerMaker: boolean;
}): RestRow {
  return {
    id: t.id,
    price: t.price,
    qty: t.qty,
    timeUs: t.time,
    buyerMaker: t.isBuyerMaker,
    firstId: 0,
    lastId: 0,
  };
}

/** The exchange's clock in µs (whatever unit it answered in). */
export async function sourceNowUs(rest: BinanceRest, o: RetryOptions = {}): Promise<number> {
  const t = await call(o, () => rest.serverTime());
  return t < US_THRESHOLD ? t * 1000 : t;
}

export async function readRestDay(o: ReadDayOptions): Promise<DayRead> {
  const { rest, symbol, dayStartUs } = o;
  const dayEndUs = dayStartUs + US_PER_DAY;
  const marginUs = (o.openDayMarginMs ?? OPEN_DAY_MARGIN_MS) * 1000;
  const complete = o.nowUs - marginUs >= dayEndUs;
  /** The newest time read: the day's last µs, or for an open day the cutoff behind the clock. */
  const limitUs = complete ? dayEndUs - 1 : o.nowUs - marginUs;
  const nothing = { complete, rows: 0, throughUs: limitUs, missingAtSource: 0 };
  if (limitUs < dayStartUs) return nothing; // the day has not begun (past the margin) at the source
  // 1. The day's first aggTrade, by time (hours past the limit are not asked).
  const first = await call(o, () => rest.firstAggTradeBetween(symbol, dayStartUs, limitUs));
  if (!first) return nothing;
  // 2. Its start is served: the aggregate before it (Binance's ids start at 0).
  if (first.a > 0) {
    const before = (await call(o, () => rest.aggTrades(symbol, first.a - 1, 1)))[0];
    if (before?.a !== first.a - 1 || before.T >= dayStartUs)
      throw new RestDayError(
        `REST's aggTrades no longer reach the day's start: asked for aggregate ${first.a - 1} (before the day's first, ${first.a}), got ${before ? `${before.a} at ${new Date(before.T / 1000).toISOString()}` : "nothing"}`,
      );
  }
  // 3. Page by fromId.
  const agg = o.table === "agg_trades";
  const startId = agg ? first.a : first.f;
  const page = async (fromId: number): Promise<RestRow[]> =>
    agg
      ? (await call(o, () => rest.aggTrades(symbol, fromId, REST_MAX_LIMIT))).map((a) => ({
          id: a.a,
          price: a.p,
          qty: a.q,
          timeUs: a.T,
          buyerMaker: a.m,
          firstId: a.f,
          lastId: a.l,
        }))
      : (await call(o, () => rest.historicalTrades(symbol, fromId, REST_MAX_LIMIT))).map(fromTrade);
  let cursor = startId;
  let rows = 0;
  let missing = 0;
  let lastUs = dayStartUs;
  const done = () => ({ complete, rows, throughUs: limitUs, missingAtSource: missing });
  for (let pages = 0; pages < MAX_PAGES_PER_DAY; pages++) {
    const got = await page(cursor);
    if (pages === 0 && got[0]?.id !== startId)
      throw new RestDayError(
        `REST's ${agg ? "aggTrades" : "historicalTrades"} no longer reach the day's start: asked from id ${startId}, got ${got[0] ? `id ${got[0].id}` : "nothing"}`,
      );
    for (const r of got) {
      if (r.id < cursor) continue; // an id already read (a page may repeat its fromId row)
      if (r.timeUs > limitUs) return done();
      if (r.timeUs < lastUs)
        throw new RestDayError(`id ${r.id} at ${r.timeUs} µs is older than the row before it (${lastUs} µs)`);
      missing += r.id - cursor;
      o.onRow(r);
      rows++;
      cursor = r.id + 1;
      lastUs = r.timeUs;
    }
    o.onProgress?.(Math.min(1, (lastUs - dayStartUs) / Math.max(1, limitUs - dayStartUs)));
    // A short page: REST had nothing newer when asked (after nowUs, so none up to the limit).
    if (got.length < REST_MAX_LIMIT) return done();
  }
  throw new RestDayError(`more than ${MAX_PAGES_PER_DAY} pages in one day`);
}
