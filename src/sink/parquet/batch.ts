/**
 * A TableBatch holds the rows of one (table, UTC date, symbol) as struct-of-arrays: the same
 * slots as model/row.ts RowColumns, only those the table uses allocated. A batcher appends rows
 * from the ring with `appendRow` (no allocation: ids/times copy as float64, decimals as two
 * uint32 words) and hands the batch to `ParquetWriterPool.write`, which transfers the buffers
 * to the worker (no copy) and puts them back, emptied, when the write settles: a batcher that
 * double-buffers two batches per key reaches a steady state without allocating. The live
 * pipeline's batcher skips that copy: `batchOver` makes its buffer (shared memory) the batch.
 */
import {
  EXCHANGE_BINANCE,
  FLAG_ASK,
  FLAG_BEYOND,
  FLAG_BUYER_MAKER,
  FLAG_SNAPSHOT,
  FLAG_UNVERIFIED,
  isSharedRows,
  perTable,
  type RowColumns,
  TABLE_ROW_SLOTS,
  Table,
  type TableName,
  WIDE_COLUMNS,
} from "../../model/index.ts";
import { dateOfDay, dayOfDate, dayOfUs, US_PER_DAY } from "./layout.ts";

export interface BatchColumns {
  id: Float64Array;
  first_id: Float64Array;
  last_id: Float64Array;
  trade_time_us: Float64Array;
  event_time_us: Float64Array;
  recv_time_us: Float64Array;
  dec0: BigInt64Array;
  dec1: BigInt64Array;
  dec2: BigInt64Array;
  dec3: BigInt64Array;
  /** bit0 = buyer is maker (model FLAG_BUYER_MAKER); the order books' bits (model/book-rows.ts). */
  flags: Uint8Array;
}

/** Every slot of a batch: the row layout's wide columns, then the flag byte. */
export const BATCH_SLOTS = [...WIDE_COLUMNS, "flags"] as const satisfies readonly (keyof BatchColumns)[];

/** Slots each table fills (model/row.ts TABLE_ROW_SLOTS); the others stay zero-length. */
const USED: Readonly<Record<TableName, ReadonlySet<keyof BatchColumns>>> = perTable(
  (t) => new Set<keyof BatchColumns>(TABLE_ROW_SLOTS[t]),
);

/**
 * Flag bits a batch keeps per table: trades keep only buyer-maker (bit 0), the order books every
 * bit their stored columns derive from (model/book-rows.ts).
 */
const FLAG_MASK: Readonly<Record<TableName, number>> = {
  trades: FLAG_BUYER_MAKER,
  agg_trades: FLAG_BUYER_MAKER,
  quotes: 0,
  book_deltas: FLAG_ASK | FLAG_SNAPSHOT,
  book_snapshots: FLAG_ASK | FLAG_UNVERIFIED,
  book_checkpoints: FLAG_ASK | FLAG_BEYOND | FLAG_UNVERIFIED,
};

export interface TableBatch {
  readonly table: TableName;
  readonly tableId: number;
  readonly exchange: string;
  readonly symbol: string;
  readonly symbolId: number;
  /** "YYYY-MM-DD": the UTC date of every row's event_time_us. */
  readonly date: string;
  readonly dayStartUs: number;
  readonly dayEndUs: number;
  readonly capacity: number;
  rows: number;
  /** True while the writer owns the buffers (they are detached here); appends are refused. */
  writing: boolean;
  columns: BatchColumns;
  /** uint32 word views on dec0..dec3 (word 2i = low, 2i+1 = high) for allocation-free copies. */
  words: [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
}

export function allocColumns(table: TableName, capacity: number): BatchColumns {
  const used = USED[table];
  const f = (s: keyof BatchColumns) => new Float64Array(used.has(s) ? capacity : 0);
  const d = (s: keyof BatchColumns) => new BigInt64Array(used.has(s) ? capacity : 0);
  return {
    id: f("id"),
    first_id: f("first_id"),
    last_id: f("last_id"),
    trade_time_us: f("trade_time_us"),
    event_time_us: f("event_time_us"),
    recv_time_us: f("recv_time_us"),
    dec0: d("dec0"),
    dec1: d("dec1"),
    dec2: d("dec2"),
    dec3: d("dec3"),
    flags: new Uint8Array(used.has("flags") ? capacity : 0),
  };
}

function wordsOf(c: BatchColumns): TableBatch["words"] {
  return [
    new Uint32Array(c.dec0.buffer),
    new Uint32Array(c.dec1.buffer),
    new Uint32Array(c.dec2.buffer),
    new Uint32Array(c.dec3.buffer),
  ];
}

export interface BatchKey {
  readonly table: TableName;
  readonly symbol: string;
  readonly symbolId: number;
  /** UTC day number (layout.dayOfUs) or "YYYY-MM-DD". */
  readonly day: number | string;
  readonly exchange?: string;
}

export function createBatch(key: BatchKey, capacity: number): TableBatch {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`batch capacity must be ≥ 1, got ${capacity}`);
  return keyedBatch(key, capacity, allocColumns(key.table, capacity));
}

/** An empty batch for `key` over the given columns (the day checked). */
function keyedBatch(key: BatchKey, capacity: number, columns: BatchColumns): TableBatch {
  const day = typeof key.day === "number" ? key.day : dayOfDate(key.day);
  if (day === null || !Number.isInteger(day)) throw new RangeError(`invalid batch day ${String(key.day)}`);
  return {
    table: key.table,
    tableId: Table[key.table],
    exchange: key.exchange ?? EXCHANGE_BINANCE,
    symbol: key.symbol,
    symbolId: key.symbolId,
    date: dateOfDay(day),
    dayStartUs: day * US_PER_DAY,
    dayEndUs: (day + 1) * US_PER_DAY,
    capacity,
    rows: 0,
    writing: false,
    columns,
    words: wordsOf(columns),
  };
}

/** Zero-length columns: the slots a batch over a table's rows does not store. */
const NO_COLUMNS = allocColumns("trades", 0);

/** Put (returned) buffers back into a batch and empty it: called by the pool. */
export function reattach(batch: TableBatch, columns: BatchColumns): void {
  batch.columns = columns;
  batch.words = wordsOf(columns);
  batch.rows = 0;
  batch.writing = false;
}

export const AppendStatus = {
  ok: 0,
  full: 1,
  busy: 2,
  wrong_table: 3,
  wrong_symbol: 4,
  wrong_date: 5,
} as const;
export type AppendStatus = (typeof AppendStatus)[keyof typeof AppendStatus];

/** Copy row `slot` of `rows` into the batch. Status, not throw: this is on the data path. */
export function appendRow(b: TableBatch, rows: RowColumns, slot: number): AppendStatus {
  if (b.writing) return AppendStatus.busy;
  const n = b.rows;
  if (n >= b.capacity) return AppendStatus.full;
  if (rows.kind[slot] !== b.tableId) return AppendStatus.wrong_table;
  if (rows.symbol_id[slot] !== b.symbolId) return AppendStatus.wrong_symbol;
  const e = rows.event_time_us[slot]!;
  if (e < b.dayStartUs || e >= b.dayEndUs) return AppendStatus.wrong_date;
  const c = b.columns;
  c.id[n] = rows.id[slot]!;
  c.event_time_us[n] = e;
  c.recv_time_us[n] = rows.recv_time_us[slot]!;
  const w = b.words;
  const s2 = slot * 2;
  const n2 = n * 2;
  w[0][n2] = rows.dec0w[s2]!;
  w[0][n2 + 1] = rows.dec0w[s2 + 1]!;
  w[1][n2] = rows.dec1w[s2]!;
  w[1][n2 + 1] = rows.dec1w[s2 + 1]!;
  if (b.tableId === Table.quotes) {
    w[2][n2] = rows.dec2w[s2]!;
    w[2][n2 + 1] = rows.dec2w[s2 + 1]!;
    w[3][n2] = rows.dec3w[s2]!;
    w[3][n2 + 1] = rows.dec3w[s2 + 1]!;
  } else if (b.tableId <= Table.agg_trades) {
    c.trade_time_us[n] = rows.trade_time_us[slot]!;
    c.flags[n] = rows.flags[slot]! & FLAG_BUYER_MAKER;
    if (b.tableId === Table.agg_trades) {
      c.first_id[n] = rows.first_id[slot]!;
      c.last_id[n] = rows.last_id[slot]!;
    }
  } else {
    // Order books: the columns each one fills (zero-length arrays take no write).
    if (c.first_id.length > 0) c.first_id[n] = rows.first_id[slot]!;
    if (c.last_id.length > 0) c.last_id[n] = rows.last_id[slot]!;
    if (c.trade_time_us.length > 0) c.trade_time_us[n] = rows.trade_time_us[slot]!;
    c.flags[n] = rows.flags[slot]! & FLAG_MASK[b.table];
  }
  b.rows = n + 1;
  return AppendStatus.ok;
}

/**
 * Append rows 0..count-1 of `rows` column by column (one typed-array copy per column the table
 * uses, instead of a call and a dozen element copies per row): how a batcher's batch, whose rows
 * all share this batch's table, symbol and UTC date, becomes a file. Every row is checked first;
 * on a refusal nothing is appended and the first refused row's status is returned.
 */
export function appendRows(b: TableBatch, rows: RowColumns, count: number): AppendStatus {
  if (b.writing) return AppendStatus.busy;
  if (b.rows + count > b.capacity) return AppendStatus.full;
  for (let i = 0; i < count; i++) {
    if (rows.kind[i] !== b.tableId) return AppendStatus.wrong_table;
    if (rows.symbol_id[i] !== b.symbolId) return AppendStatus.wrong_symbol;
    const e = rows.event_time_us[i]!;
    if (e < b.dayStartUs || e >= b.dayEndUs) return AppendStatus.wrong_date;
  }
  const at = b.rows;
  const c = b.columns;
  for (const slot of TABLE_ROW_SLOTS[b.table]) {
    if (slot === "flags") {
      const mask = FLAG_MASK[b.table];
      for (let i = 0; i < count; i++) c.flags[at + i] = rows.flags[i]! & mask;
    } else (c[slot] as Float64Array).set((rows[slot] as Float64Array).subarray(0, count), at);
  }
  b.rows = at + count;
  return AppendStatus.ok;
}

/**
 * A batch whose columns are `rows`' own arrays, no copy: how the live batcher's batch becomes a
 * file. Its rows all share this table, symbol and UTC date, and its buffer lives in
 * SharedArrayBuffers (model/row.ts allocTableRows with `shared`), so the worker reads the rows in
 * place and nothing is transferred: the rows stay with the batcher for a retry whatever happens
 * to the worker. Every row is checked as appendRows does (a status for the first that does not
 * belong), and the flag bits the table does not keep are cleared in place. The caller must not
 * touch `rows` until the write settles.
 */
export function batchOver(key: BatchKey, rows: RowColumns, count: number): TableBatch | AppendStatus {
  if (!isSharedRows(rows)) throw new RangeError("batchOver needs rows in shared memory (allocTableRows)");
  if (!Number.isInteger(count) || count < 1 || count > rows.capacity)
    throw new RangeError(`batchOver: ${count} rows do not fit a buffer of ${rows.capacity}`);
  const used = USED[key.table];
  const columns = { ...NO_COLUMNS };
  for (const slot of BATCH_SLOTS)
    if (used.has(slot)) (columns[slot] as Float64Array) = rows[slot] as Float64Array;
  const b = keyedBatch(key, rows.capacity, columns);
  for (let i = 0; i < count; i++) {
    if (rows.kind[i] !== b.tableId) return AppendStatus.wrong_table;
    if (rows.symbol_id[i] !== b.symbolId) return AppendStatus.wrong_symbol;
    const e = rows.event_time_us[i]!;
    if (e < b.dayStartUs || e >= b.dayEndUs) return AppendStatus.wrong_date;
  }
  const mask = FLAG_MASK[key.table];
  if (used.has("flags")) for (let i = 0; i < count; i++) rows.flags[i] = rows.flags[i]! & mask;
  b.rows = count;
  return b;
}

/** Append slots from..from+count-1; stops at the first refused row. Returns rows appended. */
export function appendRange(b: TableBatch, rows: RowColumns, from: number, count: number): number {
  for (let i = 0; i < count; i++) if (appendRow(b, rows, from + i) !== AppendStatus.ok) return i;
  return count;
}

/**
 * Build one batch from the given row slots (tests, replay, small batchers). The date is that of
 * the first slot's event time; throws when a slot does not fit (wrong table, symbol or date).
 */
export function buildBatch(
  table: TableName,
  symbol: string,
  symbolId: number,
  rows: RowColumns,
  slots: ArrayLike<number>,
): TableBatch {
  if (slots.length === 0) throw new RangeError("buildBatch needs at least one row");
  const first = slots[0]!;
  const b = createBatch({ table, symbol, symbolId, day: dayOfUs(rows.event_time_us[first]!) }, slots.length);
  for (let i = 0; i < slots.length; i++) {
    const st = appendRow(b, rows, slots[i]!);
    if (st !== AppendStatus.ok) throw new RangeError(`row slot ${slots[i]} refused: status ${st}`);
  }
  return b;
}
