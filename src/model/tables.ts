/**
 * The tables K2 stores and their stored column names (snake_case, unit in the name).
 * These names are the Parquet column names and the API field names, in every format.
 */
export const Table = {
  trades: 1,
  agg_trades: 2,
  quotes: 3,
  book_deltas: 4,
  book_snapshots: 5,
  book_checkpoints: 6,
} as const;
export type TableName = keyof typeof Table;
export type TableId = (typeof Table)[TableName];
export const TABLE_NAMES: readonly TableName[] = [
  "trades",
  "agg_trades",
  "quotes",
  "book_deltas",
  "book_snapshots",
  "book_checkpoints",
];
export const TABLE_BY_ID: Readonly<Record<TableId, TableName>> = {
  1: "trades",
  2: "agg_trades",
  3: "quotes",
  4: "book_deltas",
  5: "book_snapshots",
  6: "book_checkpoints",
};
/** Table ids run 1..TABLE_ID_MAX: arrays indexed by table id have TABLE_ID_MAX + 1 entries. */
export const TABLE_ID_MAX = 6;

/** The order-book tables (model/book-rows.ts): ids rise per symbol but are not consecutive. */
export type BookTableName = "book_deltas" | "book_snapshots" | "book_checkpoints";
export const BOOK_TABLE_NAMES: readonly BookTableName[] = [
  "book_deltas",
  "book_snapshots",
  "book_checkpoints",
];

/** A record with one entry per table, computed by `f`: a table added later cannot be missed. */
export function perTable<T>(f: (t: TableName) => T): Record<TableName, T> {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, f(t)])) as Record<TableName, T>;
}

/** True for book_deltas, book_snapshots and book_checkpoints (table ids 4..6). */
export function isBookTable(kind: number): boolean {
  return kind >= Table.book_deltas && kind <= Table.book_checkpoints;
}

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
  // Order books (model/book-rows.ts says which row slot feeds each column). `side` is the book's
  // side ("bid" / "ask"), not an aggressor; quantity 0 removes the level.
  book_deltas: [
    c("exchange", "string"),
    c("symbol", "string"),
    c("delta_id", "int64"),
    c("first_update_id", "int64"),
    c("last_update_id", "int64"),
    c("side", "string"),
    c("price", "decimal"),
    c("quantity", "decimal"),
    c("is_snapshot", "boolean"),
    c("event_time_us", "timestamp_us"),
    c("recv_time_us", "timestamp_us"),
  ],
  // Long layout: one row per (snapshot, side, level), level 0 the best.
  book_snapshots: [
    c("exchange", "string"),
    c("symbol", "string"),
    c("snapshot_id", "int64"),
    c("snapshot_time_us", "timestamp_us"),
    c("update_id", "int64"),
    c("side", "string"),
    c("level", "int64"),
    c("price", "decimal"),
    c("quantity", "decimal"),
    c("is_verified", "boolean"),
    c("event_time_us", "timestamp_us"),
    c("recv_time_us", "timestamp_us"),
  ],
  // Internal: the whole local book at an aligned second, so any instant can be rebuilt exactly.
  book_checkpoints: [
    c("exchange", "string"),
    c("symbol", "string"),
    c("checkpoint_id", "int64"),
    c("checkpoint_time_us", "timestamp_us"),
    c("update_id", "int64"),
    c("side", "string"),
    c("price", "decimal"),
    c("quantity", "decimal"),
    c("level_state", "string"),
    c("known_time_us", "timestamp_us"),
  ],
};

/** The per-table key that makes storage exactly-once: (table, symbol, id_column). */
export const TABLE_ID_COLUMN: Readonly<Record<TableName, string>> = {
  trades: "trade_id",
  agg_trades: "agg_trade_id",
  quotes: "update_id",
  book_deltas: "delta_id",
  book_snapshots: "snapshot_id",
  book_checkpoints: "checkpoint_id",
};
