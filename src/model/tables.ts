/**
 * The tables K2 stores and their stored column names (snake_case, unit in the name).
 * These names are the Parquet column names and the API field names, in every format.
 */
export const Table = { trades: 1, agg_trades: 2, quotes: 3 } as const;
export type TableName = keyof typeof Table;
export type TableId = (typeof Table)[TableName];
export const TABLE_NAMES: readonly TableName[] = ["trades", "agg_trades", "quotes"];
export const TABLE_BY_ID: Readonly<Record<TableId, TableName>> = {
  1: "trades",
  2: "agg_trades",
  3: "quotes",
};

/** Exchange name stored in every row (K2 ingests Binance Spot first). */
export const EXCHANGE_BINANCE = "BINANCE";

export type ColumnType = "string" | "int64" | "decimal" | "timestamp_us" | "boolean";
export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}

const c = (name: string, type: ColumnType): ColumnDef => ({ name, type });

/** Column order as stored. `side` is the aggressor: `m:true` (buyer is maker) → SELL. */
export const TABLE_COLUMNS: Readonly<Record<TableName, readonly ColumnDef[]>> = {
  trades: [
    c("exchange", "string"),
    c("symbol", "string"),
    c("trade_id", "int64"),
    c("price", "decimal"),
    c("quantity", "decimal"),
    c("side", "string"),
    c("is_buyer_maker", "boolean"),
    c("trade_time_us", "timestamp_us"),
    c("event_time_us", "timestamp_us"),
    c("recv_time_us", "timestamp_us"),
  ],
  agg_trades: [
    c("exchange", "string"),
    c("symbol", "string"),
    c("agg_trade_id", "int64"),
    c("price", "decimal"),
    c("quantity", "decimal"),
    c("first_trade_id", "int64"),
    c("last_trade_id", "int64"),
    c("side", "string"),
    c("is_buyer_maker", "boolean"),
    c("trade_time_us", "timestamp_us"),
    c("event_time_us", "timestamp_us"),
    c("recv_time_us", "timestamp_us"),
  ],
  // bookTicker carries no event time: event_time_us is the receive time (documented in README).
  quotes: [
    c("exchange", "string"),
    c("symbol", "string"),
    c("update_id", "int64"),
    c("bid_price", "decimal"),
    c("bid_quantity", "decimal"),
    c("ask_price", "decimal"),
    c("ask_quantity", "decimal"),
    c("event_time_us", "timestamp_us"),
    c("recv_time_us", "timestamp_us"),
  ],
};

/** The per-table key that makes storage exactly-once: (table, symbol, id_column). */
export const TABLE_ID_COLUMN: Readonly<Record<TableName, string>> = {
  trades: "trade_id",
  agg_trades: "agg_trade_id",
  quotes: "update_id",
};
