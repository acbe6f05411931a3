/**
 * REST spot checks for a certificate: a few pages of `/api/v3/historicalTrades` (weight 25) or
 * `/api/v3/aggTrades` (weight 4) from random ids inside the stored day, compared row by row with
 * the stored rows of the same ids. Through the REST client K2 repairs gaps with, so the pages
 * count against the same per-minute weight budget (K2_REST_WEIGHT_BUDGET) and 429s are honoured.
 * REST times are milliseconds: they are compared with the stored µs at that precision.
 */
import { parseDecimal } from "../model/decimal.ts";
import type { Duck } from "../query/duck.ts";
import type { BinanceRest } from "../source/binance/rest.ts";
import { WEIGHT_AGG_TRADES, WEIGHT_HISTORICAL_TRADES } from "../source/binance/rest.ts";
import type { CertTable } from "./canonical.ts";

/** Rows per spot-check page: a sample, not a download (the weight is per request, not per row). */
export const SPOT_PAGE_ROWS = 100;
/** Pages a certificate may ask for at most. */
export const MAX_SPOT_PAGES = 10;
/** Differences listed at most. */
const MAX_LISTED = 20;

export interface SpotCheck {
  readonly pages: number;
  readonly rows_compared: number;
  readonly weight: number;
  /** One sentence per row that differs (at most MAX_LISTED); empty when all agreed. */
  readonly differences: string[];
  /** Set when REST could not be asked (the spot check then proves nothing either way). */
  readonly error?: string;
}

interface Row {
  price: bigint;
  qty: bigint;
  first: number;
  last: number;
  timeMs: number;
  maker: boolean;
}

const same = (a: Row, b: Row) =>
  a.price === b.price &&
  a.qty === b.qty &&
  a.first === b.first &&
  a.last === b.last &&
  a.timeMs === b.timeMs &&
  a.maker === b.maker;

export async function spotCheck(
  rest: BinanceRest,
  duck: Duck,
  files: readonly string[],
  table: CertTable,
  symbol: string,
  firstId: number,
  lastId: number,
  pages: number,
  random: () => number = Math.random,
): Promise<SpotCheck> {
  const n = Math.min(pages, MAX_SPOT_PAGES);
  const differences: string[] = [];
  let compared = 0;
  let done = 0;
  const idCol = table === "trades" ? "trade_id" : "agg_trade_id";
  const extra = table === "trades" ? "0 AS f, 0 AS l" : "first_trade_id, last_trade_id";
  const sql =
    `SELECT ${idCol}, price, quantity, ${extra}, epoch_us(trade_time_us) // 1000 AS t, is_buyer_maker ` +
    `FROM read_parquet($1::VARCHAR[], hive_partitioning = false) WHERE symbol = $2 AND ${idCol} BETWEEN $3 AND $4`;
  const weight = table === "trades" ? WEIGHT_HISTORICAL_TRADES : WEIGHT_AGG_TRADES;
  const note = (s: string) => {
    if (differences.length < MAX_LISTED) differences.push(s);
  };
  try {
    for (let i = 0; i < n && lastId >= firstId; i++) {
      const from = firstId + Math.floor(random() * Math.max(1, lastId - firstId + 1 - SPOT_PAGE_ROWS));
      const to = Math.min(lastId, from + SPOT_PAGE_ROWS - 1);
      const remote = new Map<number, Row>();
      if (table === "trades") {
        for (const t of await rest.historicalTrades(symbol, from, SPOT_PAGE_ROWS))
          if (t.id <= to)
            remote.set(t.id, {
              price: parseDecimal(t.price) ?? -1n,
              qty: parseDecimal(t.qty) ?? -1n,
              first: 0,
              last: 0,
              timeMs: t.time,
              maker: t.isBuyerMaker,
            });
      } else {
        for (const a of await rest.aggTrades(symbol, from, SPOT_PAGE_ROWS))
          if (a.a <= to)
            remote.set(a.a, {
              price: parseDecimal(a.p) ?? -1n,
              qty: parseDecimal(a.q) ?? -1n,
              first: a.f,
              last: a.l,
              timeMs: a.T,
              maker: a.m,
            });
      }
      done++;
      const c = await duck.query(sql, [{ files }, { text: symbol }, { int: from }, { int: to }]);
      const local = new Map<number, Row>();
      for (let r = 0; r < c.length; r++)
        local.set(c.data[0]![r] as number, {
          price: c.data[1]![r] as bigint,
          qty: c.data[2]![r] as bigint,
          first: c.data[3]![r] as number,
          last: c.data[4]![r] as number,
          timeMs: c.data[5]![r] as number,
          maker: c.data[6]![r] as boolean,
        });
      for (const [id, row] of remote) {
        const mine = local.get(id);
        compared++;
        if (!mine) note(`id ${id}: REST has it, K2 does not store it`);
        else if (!same(mine, row)) note(`id ${id}: stored row differs from REST`);
      }
      for (const id of local.keys()) if (!remote.has(id)) note(`id ${id}: stored, REST does not have it`);
    }
  } catch (e) {
    return {
      pages: done,
      rows_compared: compared,
      weight: done * weight,
      differences,
      error: (e as Error).message,
    };
  }
  return { pages: done, rows_compared: compared, weight: done * weight, differences };
}
