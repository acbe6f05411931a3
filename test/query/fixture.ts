/**
 * Known data for query tests: deterministic trades written as Hive-partitioned Parquet by DuckDB
 * with the stored column types, the tail of the same sequence kept back to feed the hot window,
 * and an oracle DuckDB table `t` holding every row (files + hot) for independent expectations.
 *
 * Trades: id i = 1..N, time = 2024-01-01T00:00Z + i × 1.7 s + jitter (< 1 s), plus a 2-hour hole
 * after id 3000 so empty intervals exist; prices and quantities are exact 8-decimal values from a
 * hash, built from text so no float is involved. Two dates, two files per date.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { formatDecimal } from "../../src/model/decimal.ts";
import { allocRowColumns, type RowColumns } from "../../src/model/row.ts";
import { Table } from "../../src/model/tables.ts";

export const BASE_US = Date.UTC(2024, 0, 1) * 1000;
export const N_TRADES = 110_000;
/** Ids above this are only in memory (the hot window), never in a file. */
export const COLD_MAX_ID = 105_000;

const dec = (expr: string) =>
  `((${expr}) // 100000000)::VARCHAR || '.' || lpad(((${expr}) % 100000000)::VARCHAR, 8, '0')`;

export interface Fixture {
  readonly dir: string;
  readonly oracle: DuckDBConnection;
  /** The rows above COLD_MAX_ID as RowColumns, for HotWindow.append. */
  readonly hotRows: RowColumns;
  close(): void;
}

export async function buildFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "k2-query-"));
  const inst = await DuckDBInstance.create(":memory:", { threads: "1", memory_limit: "512MB" });
  const con = await inst.connect();
  await con.run(`CREATE TABLE t AS SELECT
      'BINANCE' AS exchange, 'BTCUSDT' AS symbol, i::BIGINT AS trade_id,
      (${dec("4000000000000 + hash(i) % 200000000000")})::DECIMAL(18,8) AS price,
      (${dec("1 + hash(i * 7 + 3) % 300000000")})::DECIMAL(18,8) AS quantity,
      CASE WHEN hash(i * 13) % 2 = 0 THEN 'SELL' ELSE 'BUY' END AS side,
      hash(i * 13) % 2 = 0 AS is_buyer_maker,
      make_timestamp(${BASE_US} + i * 1700000 + (hash(i * 5) % 900000)::BIGINT + CASE WHEN i > 3000 THEN 7200000000 ELSE 0 END)::TIMESTAMPTZ AS trade_time_us,
      make_timestamp(${BASE_US} + i * 1700000 + (hash(i * 5) % 900000)::BIGINT + CASE WHEN i > 3000 THEN 7200000000 ELSE 0 END + 1500)::TIMESTAMPTZ AS event_time_us,
      make_timestamp(${BASE_US} + i * 1700000 + (hash(i * 5) % 900000)::BIGINT + CASE WHEN i > 3000 THEN 7200000000 ELSE 0 END + 2500)::TIMESTAMPTZ AS recv_time_us
    FROM range(1, ${N_TRADES + 1}) r(i)`);
  // Two files per UTC date, split at the date's median id.
  const parts = await (
    await con.run(`SELECT trade_time_us::DATE::VARCHAR AS d, min(trade_id), max(trade_id) FROM t
      WHERE trade_id <= ${COLD_MAX_ID} GROUP BY d ORDER BY d`)
  ).getRows();
  for (const [d, lo, hi] of parts) {
    const sdir = join(dir, "trades", `date=${d}`, "symbol=BTCUSDT");
    mkdirSync(sdir, { recursive: true });
    const mid = (BigInt(lo as bigint) + BigInt(hi as bigint)) / 2n;
    for (const [name, a, b] of [
      ["part-0", lo, mid],
      ["part-1", mid + 1n, hi],
    ] as const) {
      await con.run(`COPY (SELECT * FROM t WHERE trade_id BETWEEN ${a} AND ${b} ORDER BY trade_id)
        TO '${join(sdir, `${name}.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`);
    }
  }
  // A small quotes table and agg_trades table for ETHUSDT (cold only).
  const qdir = join(dir, "quotes", "date=2024-01-01", "symbol=ETHUSDT");
  mkdirSync(qdir, { recursive: true });
  await con.run(`CREATE TABLE q AS SELECT 'BINANCE' AS exchange, 'ETHUSDT' AS symbol, (1000 + i)::BIGINT AS update_id,
      (${dec("200000000000 + hash(i) % 1000000000")})::DECIMAL(18,8) AS bid_price,
      (${dec("1 + hash(i + 1) % 1000000000")})::DECIMAL(18,8) AS bid_quantity,
      (${dec("201000000000 + hash(i) % 1000000000")})::DECIMAL(18,8) AS ask_price,
      (${dec("1 + hash(i + 2) % 1000000000")})::DECIMAL(18,8) AS ask_quantity,
      make_timestamp(${BASE_US} + i * 250000)::TIMESTAMPTZ AS event_time_us,
      make_timestamp(${BASE_US} + i * 250000 + 10)::TIMESTAMPTZ AS recv_time_us
    FROM range(1, 2001) r(i)`);
  await con.run(`COPY (SELECT * FROM q) TO '${join(qdir, "q.parquet")}' (FORMAT parquet, COMPRESSION zstd)`);
  const adir = join(dir, "agg_trades", "date=2024-01-01", "symbol=ETHUSDT");
  mkdirSync(adir, { recursive: true });
  await con.run(`CREATE TABLE a AS SELECT 'BINANCE' AS exchange, 'ETHUSDT' AS symbol, i::BIGINT AS agg_trade_id,
      (${dec("200000000000 + hash(i) % 1000000000")})::DECIMAL(18,8) AS price,
      (${dec("1 + hash(i + 1) % 1000000000")})::DECIMAL(18,8) AS quantity,
      (i * 3)::BIGINT AS first_trade_id, (i * 3 + 2)::BIGINT AS last_trade_id,
      'BUY' AS side, false AS is_buyer_maker,
      make_timestamp(${BASE_US} + i * 1000000)::TIMESTAMPTZ AS trade_time_us,
      make_timestamp(${BASE_US} + i * 1000000 + 5)::TIMESTAMPTZ AS event_time_us,
      make_timestamp(${BASE_US} + i * 1000000 + 9)::TIMESTAMPTZ AS recv_time_us
    FROM range(1, 1001) r(i)`);
  await con.run(`COPY (SELECT * FROM a) TO '${join(adir, "a.parquet")}' (FORMAT parquet, COMPRESSION zstd)`);

  const rows = await rowColumnsFor(con, COLD_MAX_ID + 1, N_TRADES);
  return {
    dir,
    oracle: con,
    hotRows: rows,
    close() {
      con.closeSync();
      inst.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Trades lo..hi of the oracle table as RowColumns (BTCUSDT = symbol id 0), for HotWindow.append. */
export async function rowColumnsFor(con: DuckDBConnection, lo: number, hi: number): Promise<RowColumns> {
  const hot = await (
    await con.run(`SELECT trade_id, (price::DECIMAL(38,8) * 100000000)::BIGINT, (quantity::DECIMAL(38,8) * 100000000)::BIGINT, is_buyer_maker,
      epoch_us(trade_time_us), epoch_us(event_time_us), epoch_us(recv_time_us) FROM t WHERE trade_id BETWEEN ${lo} AND ${hi} ORDER BY trade_id`)
  ).getRows();
  const rows = allocRowColumns(Math.max(1, hot.length));
  hot.forEach((r, i) => {
    rows.kind[i] = Table.trades;
    rows.symbol_id[i] = 0;
    rows.id[i] = Number(r[0]);
    rows.dec0[i] = r[1] as bigint;
    rows.dec1[i] = r[2] as bigint;
    rows.flags[i] = r[3] ? 1 : 0;
    rows.trade_time_us[i] = Number(r[4]);
    rows.event_time_us[i] = Number(r[5]);
    rows.recv_time_us[i] = Number(r[6]);
  });
  return rows;
}

/** Rows of an oracle query as plain JS (bigint kept for exact comparisons). */
export async function oracleRows(con: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await con.run(sql)).getRows() as Promise<unknown[][]>;
}

/** OHLCV from the oracle in integer arithmetic (a different formulation from the engine's). */
export async function oracleCandles(con: DuckDBConnection, ivUs: number, fromUs: number, toUs: number) {
  const rows = await oracleRows(
    con,
    `WITH s AS (SELECT *, (price::DECIMAL(38,8) * 100000000)::HUGEINT AS p8, (quantity::DECIMAL(38,8) * 100000000)::HUGEINT AS q8
        FROM t WHERE epoch_us(trade_time_us) >= ${fromUs} AND epoch_us(trade_time_us) < ${toUs})
     SELECT epoch_us(trade_time_us) // ${ivUs} * ${ivUs} AS b, arg_min(price, trade_id)::VARCHAR, max(price)::VARCHAR, min(price)::VARCHAR,
       arg_max(price, trade_id)::VARCHAR, sum(quantity)::VARCHAR, (sum(p8 * q8) + 50000000) // 100000000,
       count(*), (2 * sum(p8 * q8) + sum(q8)) // (2 * sum(q8)), min(trade_id), max(trade_id)
     FROM s GROUP BY b ORDER BY b`,
  );
  return rows.map((r) => ({
    open_time_us: Number(r[0]),
    open: r[1],
    high: r[2],
    low: r[3],
    close: r[4],
    volume: r[5],
    quote_volume: formatDecimal(BigInt(r[6] as bigint)),
    trade_count: Number(r[7]),
    vwap: formatDecimal(BigInt(r[8] as bigint)),
    first_trade_id: Number(r[9]),
    last_trade_id: Number(r[10]),
  }));
}
