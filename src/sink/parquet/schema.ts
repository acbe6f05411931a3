/**
 * The Parquet schema of each table, derived from model/tables.ts, and where each stored column
 * comes from in a batch. Types: decimals DECIMAL(18,8) on INT64, times TIMESTAMP(MICROS, UTC),
 * ids plain INT64, strings UTF8 (dictionary-encoded), flags BOOLEAN; every column REQUIRED.
 */
import type { ParquetWriter } from "hyparquet-writer";
import {
  type ColumnDef,
  DECIMAL_PRECISION,
  DECIMAL_SCALE,
  FLAG_ASK,
  FLAG_BEYOND,
  FLAG_BUYER_MAKER,
  FLAG_SNAPSHOT,
  FLAG_UNVERIFIED,
  perTable,
  TABLE_COLUMNS,
  TABLE_ID_COLUMN,
  type TableName,
} from "../../model/index.ts";

/** hyparquet-writer bundles its own hyparquet: use the element type it declares. */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]["schema"][number];

/** Bump when a stored column, type or meaning changes; readers check `k2.schema_version`. */
export const SCHEMA_VERSION = 1;
/**
 * Versions this build reads: every one ever written, so an upgrade (and its rehearsal,
 * operational/upgrade-rehearsal.ts) serves the files of every earlier version. Bumping
 * SCHEMA_VERSION means adding the new one here and a reader or a migration for the old (a test
 * fails otherwise). A file of a version not listed was written by a later K2 (a rollback): it is
 * left on disk untouched and not served.
 */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1];
export const WRITER_INFO = `k2 parquet-sink schema=${SCHEMA_VERSION} (k2 column writer, hyparquet-writer 0.17.0 thrift, zstd)`;

/** Rows per row group: a day file of ~1M trades gets ~16 groups whose min/max prune reads. */
export const ROW_GROUP_ROWS = 65_536;
/**
 * Order-book tables: a book at an instant reads one checkpoint and a minute of deltas, a few
 * thousand rows of files that hold hours; smaller groups let the time statistics skip the rest.
 * Measured (native-bench/book-at.ts, a day of 100 ms diffs): /v1/book?at= p99 42 ms → 28–35 ms.
 */
export const BOOK_ROW_GROUP_ROWS = 8_192;

/** Key-value metadata keys written into every file's footer (all values are strings). */
export const META = {
  schemaVersion: "k2.schema_version",
  writer: "k2.writer",
  table: "k2.table",
  exchange: "k2.exchange",
  symbol: "k2.symbol",
  date: "k2.date",
  rows: "k2.rows",
  minId: "k2.min_id",
  maxId: "k2.max_id",
  minEventTimeUs: "k2.min_event_time_us",
  maxEventTimeUs: "k2.max_event_time_us",
  /** JSON array of the file names (same partition) a compacted file replaces. */
  replaces: "k2.replaces",
} as const;

/** A stored column the writer derives from bits of a row's flag byte (see FLAG_COLUMNS). */
export type FlagSlot = "side" | "flags" | "book_side" | "is_snapshot" | "is_verified" | "level_state";

/** A batch column slot (same names as RowColumns) or a value the writer derives. */
export type Slot =
  | "id"
  | "first_id"
  | "last_id"
  | "trade_time_us"
  | "event_time_us"
  | "recv_time_us"
  | "dec0"
  | "dec1"
  | "dec2"
  | "dec3"
  | "exchange"
  | "symbol"
  | FlagSlot;

/**
 * A stored column computed from the flag byte: `values[index(flags)]` is what the file holds,
 * `bits[i]` the flag bits value i stands for (compaction reads files back into flags with it).
 */
export interface FlagColumn {
  readonly type: "string" | "boolean";
  readonly values: readonly (string | boolean)[];
  readonly index: (flags: number) => number;
  readonly bits: readonly number[];
}

export const FLAG_COLUMNS: Readonly<Record<FlagSlot, FlagColumn>> = {
  // Trades: the aggressor (buyer is maker → the seller hit the bid: SELL) and the maker flag itself.
  side: {
    type: "string",
    values: ["BUY", "SELL"],
    index: (f) => f & FLAG_BUYER_MAKER,
    bits: [0, FLAG_BUYER_MAKER],
  },
  flags: {
    type: "boolean",
    values: [false, true],
    index: (f) => f & FLAG_BUYER_MAKER,
    bits: [0, FLAG_BUYER_MAKER],
  },
  // Order books (model/book-rows.ts).
  book_side: {
    type: "string",
    values: ["bid", "ask"],
    index: (f) => (f & FLAG_ASK ? 1 : 0),
    bits: [0, FLAG_ASK],
  },
  is_snapshot: {
    type: "boolean",
    values: [false, true],
    index: (f) => (f & FLAG_SNAPSHOT ? 1 : 0),
    bits: [0, FLAG_SNAPSHOT],
  },
  is_verified: {
    type: "boolean",
    values: [true, false],
    index: (f) => (f & FLAG_UNVERIFIED ? 1 : 0),
    bits: [0, FLAG_UNVERIFIED],
  },
  // An unverified level is also beyond the snapshot's reach: "unverified" says more, so it wins.
  level_state: {
    type: "string",
    values: ["exact", "beyond", "unverified"],
    index: (f) => (f & FLAG_UNVERIFIED ? 2 : f & FLAG_BEYOND ? 1 : 0),
    bits: [0, FLAG_BEYOND, FLAG_UNVERIFIED],
  },
};

export function isFlagSlot(s: Slot): s is FlagSlot {
  return s in FLAG_COLUMNS;
}

/** Stored column name → batch slot, per table (mirrors the table in model/row.ts). */
export const TABLE_SLOTS: Readonly<Record<TableName, Readonly<Record<string, Slot>>>> = {
  trades: {
    exchange: "exchange",
    symbol: "symbol",
    trade_id: "id",
    price: "dec0",
    quantity: "dec1",
    side: "side",
    is_buyer_maker: "flags",
    trade_time_us: "trade_time_us",
    event_time_us: "event_time_us",
    recv_time_us: "recv_time_us",
  },
  agg_trades: {
    exchange: "exchange",
    symbol: "symbol",
    agg_trade_id: "id",
    price: "dec0",
    quantity: "dec1",
    first_trade_id: "first_id",
    last_trade_id: "last_id",
    side: "side",
    is_buyer_maker: "flags",
    trade_time_us: "trade_time_us",
    event_time_us: "event_time_us",
    recv_time_us: "recv_time_us",
  },
  quotes: {
    exchange: "exchange",
    symbol: "symbol",
    update_id: "id",
    bid_price: "dec0",
    bid_quantity: "dec1",
    ask_price: "dec2",
    ask_quantity: "dec3",
    event_time_us: "event_time_us",
    recv_time_us: "recv_time_us",
  },
  // The order-book tables, as model/book-rows.ts lays them on the row.
  book_deltas: {
    exchange: "exchange",
    symbol: "symbol",
    delta_id: "id",
    first_update_id: "first_id",
    last_update_id: "last_id",
    side: "book_side",
    price: "dec0",
    quantity: "dec1",
    is_snapshot: "is_snapshot",
    event_time_us: "event_time_us",
    recv_time_us: "recv_time_us",
  },
  book_snapshots: {
    exchange: "exchange",
    symbol: "symbol",
    snapshot_id: "id",
    snapshot_time_us: "event_time_us",
    update_id: "first_id",
    side: "book_side",
    level: "last_id",
    price: "dec0",
    quantity: "dec1",
    is_verified: "is_verified",
    event_time_us: "trade_time_us",
    recv_time_us: "recv_time_us",
  },
  book_checkpoints: {
    exchange: "exchange",
    symbol: "symbol",
    checkpoint_id: "id",
    checkpoint_time_us: "event_time_us",
    update_id: "first_id",
    side: "book_side",
    price: "dec0",
    quantity: "dec1",
    level_state: "level_state",
    known_time_us: "trade_time_us",
  },
};

export function slotOf(table: TableName, column: string): Slot {
  const s = TABLE_SLOTS[table][column];
  if (s === undefined) throw new Error(`no slot for ${table}.${column}`);
  return s;
}

/** The annotated element that goes into the footer. */
function annotated(col: ColumnDef): SchemaElement {
  const base = { name: col.name, repetition_type: "REQUIRED" } as const;
  switch (col.type) {
    case "string":
      return { ...base, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } };
    case "int64":
      return { ...base, type: "INT64" };
    case "boolean":
      return { ...base, type: "BOOLEAN" };
    case "decimal":
      return {
        ...base,
        type: "INT64",
        converted_type: "DECIMAL",
        scale: DECIMAL_SCALE,
        precision: DECIMAL_PRECISION,
        logical_type: { type: "DECIMAL", scale: DECIMAL_SCALE, precision: DECIMAL_PRECISION },
      };
    case "timestamp_us":
      return {
        ...base,
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      };
  }
}

export interface TableSchema {
  readonly columns: readonly ColumnDef[];
  readonly annotated: SchemaElement[];
  readonly idColumn: string;
}

function build(table: TableName): TableSchema {
  const columns = TABLE_COLUMNS[table];
  const root: SchemaElement = { name: "root", num_children: columns.length };
  const els = columns.map(annotated);
  return {
    columns,
    annotated: [root, ...els],
    idColumn: TABLE_ID_COLUMN[table],
  };
}

export const TABLE_SCHEMAS: Readonly<Record<TableName, TableSchema>> = perTable(build);
