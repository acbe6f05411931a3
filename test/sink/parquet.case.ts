/**
 * Conformance cases for the Parquet sink: each case fills RowColumns the way a decoder would
 * and states what a reader must get back. `expectedRows` is an oracle written from the model's
 * documented layout (model/row.ts), independent of sink/parquet/schema.ts.
 */
import {
  allocRowColumns,
  allocTableRows,
  copyTableRow,
  FLAG_BUYER_MAKER,
  type RowColumns,
  Table,
  type TableName,
} from "../../src/model/index.ts";
import { buildBatch } from "../../src/sink/parquet/index.ts";

export interface ParquetCase {
  readonly name: string;
  readonly table: TableName;
  readonly symbol: string;
  /** Rows filled into slots 0..n-1 of the returned columns; all on one UTC date. */
  readonly build: (symbolId: number) => { rows: RowColumns; n: number };
}

export const DAY0_US = 19_675 * 86_400_000_000; // 2023-11-14T00:00:00Z
export const MAX_PRICE = 100_000_000_000_000n; // 1,000,000.00000000
export const MAX_QTY = 999_999_999_999_999_999n; // 9,999,999,999.99999999

/** Deterministic pseudo-random (LCG) so failures reproduce. */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4_294_967_296;
  };
}

/** Prices spread over 0.00000001 … 1,000,000 on a log scale, always including both ends. */
function price(i: number, n: number, r: () => number): bigint {
  if (i === 0) return 1n;
  if (i === n - 1) return MAX_PRICE;
  return BigInt(Math.floor(10 ** (r() * 14))) + 1n;
}

function qty(i: number, r: () => number): bigint {
  if (i === 1) return MAX_QTY;
  if (i === 2) return 1n;
  return BigInt(Math.floor(10 ** (r() * 17))) * 10n + BigInt(i % 10);
}

function fill(
  table: TableName,
  n: number,
  symbolId: number,
  opts: { firstId?: number; t0?: number; stepUs?: number; seed?: number } = {},
) {
  const rows = allocRowColumns(n);
  const r = lcg(opts.seed ?? 7);
  const t0 = opts.t0 ?? DAY0_US + 3_600_000_000;
  const step = opts.stepUs ?? 1_000;
  const id0 = opts.firstId ?? 3_000_000_000;
  for (let i = 0; i < n; i++) {
    const t = t0 + i * step;
    rows.kind[i] = Table[table];
    rows.symbol_id[i] = symbolId;
    rows.id[i] = id0 + i;
    rows.event_time_us[i] = t;
    rows.recv_time_us[i] = t + 1_234 + (i % 50);
    rows.dec0[i] = price(i, n, r);
    rows.dec1[i] = qty(i, r);
    if (table === "quotes") {
      rows.dec2[i] = rows.dec0[i]! + 1n;
      rows.dec3[i] = qty(i + 7, r);
    } else {
      rows.trade_time_us[i] = t - 17;
      rows.flags[i] = r() < 0.5 ? FLAG_BUYER_MAKER : 0;
      if (table === "agg_trades") {
        rows.first_id[i] = 9_000_000 + i * 3;
        rows.last_id[i] = 9_000_000 + i * 3 + 2;
      }
    }
  }
  return rows;
}

export const CASES: readonly ParquetCase[] = [
  {
    name: "trades: prices 1e-8…1e6, quantities up to 9,999,999,999.99999999",
    table: "trades",
    symbol: "BTCUSDT",
    build: (s) => ({ rows: fill("trades", 2_000, s), n: 2_000 }),
  },
  {
    name: "agg_trades: first/last trade ids",
    table: "agg_trades",
    symbol: "ETHUSDT",
    build: (s) => ({ rows: fill("agg_trades", 1_500, s, { seed: 11 }), n: 1_500 }),
  },
  {
    name: "quotes: four decimals per row",
    table: "quotes",
    symbol: "BNBUSDT",
    build: (s) => ({ rows: fill("quotes", 1_200, s, { seed: 3 }), n: 1_200 }),
  },
  {
    name: "trades: day edges (00:00:00.000000 and 23:59:59.999999) and ids near 2^53",
    table: "trades",
    symbol: "SOLUSDT",
    build: (s) => {
      const rows = fill("trades", 3, s, { firstId: Number.MAX_SAFE_INTEGER - 2, t0: DAY0_US, stepUs: 1 });
      rows.event_time_us[2] = DAY0_US + 86_400_000_000 - 1;
      rows.trade_time_us[0] = 0;
      return { rows, n: 3 };
    },
  },
  {
    name: "trades: one row",
    table: "trades",
    symbol: "XRPUSDT",
    build: (s) => ({ rows: fill("trades", 1, s, { seed: 5 }), n: 1 }),
  },
];

export type ExpectedRow = Record<string, bigint | string | boolean>;

/** What the stored row must be, from the documented row layout. */
export function expectedRows(table: TableName, symbol: string, rows: RowColumns, n: number): ExpectedRow[] {
  const out: ExpectedRow[] = [];
  for (let i = 0; i < n; i++) {
    const common = { exchange: "BINANCE", symbol };
    const times = {
      event_time_us: BigInt(rows.event_time_us[i]!),
      recv_time_us: BigInt(rows.recv_time_us[i]!),
    };
    const m = (rows.flags[i]! & FLAG_BUYER_MAKER) !== 0;
    if (table === "quotes") {
      out.push({
        ...common,
        update_id: BigInt(rows.id[i]!),
        bid_price: rows.dec0[i]!,
        bid_quantity: rows.dec1[i]!,
        ask_price: rows.dec2[i]!,
        ask_quantity: rows.dec3[i]!,
        ...times,
      });
    } else {
      const trade = {
        price: rows.dec0[i]!,
        quantity: rows.dec1[i]!,
        side: m ? "SELL" : "BUY",
        is_buyer_maker: m,
        trade_time_us: BigInt(rows.trade_time_us[i]!),
        ...times,
      };
      out.push(
        table === "trades"
          ? { ...common, trade_id: BigInt(rows.id[i]!), ...trade }
          : {
              ...common,
              agg_trade_id: BigInt(rows.id[i]!),
              first_trade_id: BigInt(rows.first_id[i]!),
              last_trade_id: BigInt(rows.last_id[i]!),
              ...trade,
            },
      );
    }
  }
  return out;
}

/** Synthetic trade rows for catalog tests: ids firstId…, times from t0 every stepUs. */
export function tradeRows(
  n: number,
  symbolId: number,
  firstId: number,
  t0: number,
  stepUs = 1_000,
): RowColumns {
  return fill("trades", n, symbolId, { firstId, t0, stepUs, seed: firstId % 997 });
}

/** The first `n` rows of `src` as the live batcher holds a batch: `table`'s slots, in shared memory. */
export function sharedTableRows(table: TableName, src: RowColumns, n: number): RowColumns {
  const out = allocTableRows(table, n, true);
  for (let i = 0; i < n; i++) copyTableRow(Table[table], src, i, out, i);
  return out;
}

/** A case's first `n` rows as encodeParquet's input (one batch, one file). */
export function encodeInputOf(c: ParquetCase, rows: RowColumns, n: number) {
  const b = buildBatch(
    c.table,
    c.symbol,
    0,
    rows,
    Array.from({ length: n }, (_, i) => i),
  );
  return {
    table: c.table,
    exchange: b.exchange,
    symbol: c.symbol,
    date: b.date,
    rows: n,
    columns: b.columns,
  };
}
