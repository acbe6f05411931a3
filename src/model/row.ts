/**
 * The in-memory row layout shared by decode → ring → sink: one union row for all three tables,
 * struct-of-arrays, typed columns allocated once. A decoder writes slot `i` of every column it
 * owns; `kind` says which table the row belongs to.
 *
 * | column         | trades         | agg_trades     | quotes         |
 * |----------------|----------------|----------------|----------------|
 * | kind           | Table.trades   | Table.agg_trades | Table.quotes |
 * | symbol_id      | interned id    | interned id    | interned id    |
 * | id             | trade_id `t`   | agg id `a`     | update id `u`  |
 * | first_id       | 0              | `f`            | 0              |
 * | last_id        | 0              | `l`            | 0              |
 * | trade_time_us  | `T`            | `T`            | 0              |
 * | event_time_us  | `E`            | `E`            | recv_time_us   |
 * | recv_time_us   | ours           | ours           | ours           |
 * | dec0           | price `p`      | price `p`      | bid `b`        |
 * | dec1           | quantity `q`   | quantity `q`   | bid qty `B`    |
 * | dec2           | 0              | 0              | ask `a`        |
 * | dec3           | 0              | 0              | ask qty `A`    |
 * | flags          | bit0 = `m`     | bit0 = `m`     | 0              |
 *
 * The order-book tables (book_deltas, book_snapshots, book_checkpoints) ride the same row:
 * model/book-rows.ts gives their column use and composed ids.
 *
 * Ids and times are integers held exactly in Float64Array (Binance ids and µs times are far
 * below 2^53; decoders reject ids ≥ 2^53). Decimals are int64 scaled by 1e8 in BigInt64Array;
 * the hot path writes them through the `*w` Uint32Array aliases (word 2i = low, 2i+1 = high).
 */
import { perTable, Table, type TableId, type TableName } from "./tables.ts";

export const FLAG_BUYER_MAKER = 1;

export interface RowColumns {
  readonly capacity: number;
  readonly kind: Uint8Array;
  readonly symbol_id: Uint16Array;
  readonly id: Float64Array;
  readonly first_id: Float64Array;
  readonly last_id: Float64Array;
  readonly trade_time_us: Float64Array;
  readonly event_time_us: Float64Array;
  readonly recv_time_us: Float64Array;
  readonly dec0: BigInt64Array;
  readonly dec1: BigInt64Array;
  readonly dec2: BigInt64Array;
  readonly dec3: BigInt64Array;
  /** uint32 views on dec0..dec3 for allocation-free writes. */
  readonly dec0w: Uint32Array;
  readonly dec1w: Uint32Array;
  readonly dec2w: Uint32Array;
  readonly dec3w: Uint32Array;
  readonly flags: Uint8Array;
}

export function allocRowColumns(capacity: number): RowColumns {
  return allocWith(capacity, () => true);
}

/**
 * A RowColumns for rows of one table only: kind, symbol_id and the slots the table stores
 * (TABLE_ROW_SLOTS) get room, the others are empty arrays (a write to them does nothing). A trade
 * row takes 52 B instead of 84. What a batch of one (table, symbol, day) needs: at the max-rate
 * end-to-end run the batcher's full-layout buffers were most of K2's memory (halving
 * K2_BATCH_MAX_ROWS took 59 MB off its ArrayBuffers and 71 MB off RSS).
 */
export function allocTableRows(table: TableName, capacity: number, shared = false): RowColumns {
  const used = TABLE_SLOT_SETS[table];
  return allocWith(capacity, (k) => k === "kind" || k === "symbol_id" || used.has(k), shared);
}

/**
 * `shared`: every column in a SharedArrayBuffer, so a Worker can read the rows where they are
 * (the Parquet writer: no copy into a batch of its own, and the rows stay here if it dies).
 */
function allocWith(capacity: number, used: (k: RowArray) => boolean, shared = false): RowColumns {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`row capacity must be ≥ 1, got ${capacity}`);
  const buf = (k: RowArray, bytes: number) => {
    const n = used(k) ? capacity * bytes : 0;
    return shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n);
  };
  const dec0 = new BigInt64Array(buf("dec0", 8));
  const dec1 = new BigInt64Array(buf("dec1", 8));
  const dec2 = new BigInt64Array(buf("dec2", 8));
  const dec3 = new BigInt64Array(buf("dec3", 8));
  return {
    capacity,
    kind: new Uint8Array(buf("kind", 1)),
    symbol_id: new Uint16Array(buf("symbol_id", 2)),
    id: new Float64Array(buf("id", 8)),
    first_id: new Float64Array(buf("first_id", 8)),
    last_id: new Float64Array(buf("last_id", 8)),
    trade_time_us: new Float64Array(buf("trade_time_us", 8)),
    event_time_us: new Float64Array(buf("event_time_us", 8)),
    recv_time_us: new Float64Array(buf("recv_time_us", 8)),
    dec0,
    dec1,
    dec2,
    dec3,
    dec0w: new Uint32Array(dec0.buffer),
    dec1w: new Uint32Array(dec1.buffer),
    dec2w: new Uint32Array(dec2.buffer),
    dec3w: new Uint32Array(dec3.buffer),
    flags: new Uint8Array(buf("flags", 1)),
  };
}

/** True when the rows live in SharedArrayBuffers (allocTableRows(…, true)). */
export function isSharedRows(rows: RowColumns): boolean {
  return rows.id.buffer instanceof SharedArrayBuffer;
}

/** Bytes a RowColumns of `capacity` rows holds: 2 + 10 × 8 + 1 per row (see allocRowColumns). */
export function rowColumnsBytes(capacity: number): number {
  return capacity * ROW_COLUMN_BYTES;
}
const ROW_COLUMN_BYTES = 1 + 2 + 10 * 8 + 1;

/** Bytes the arrays of `rows` own (less than rowColumnsBytes for allocTableRows's). */
export function rowsBytes(rows: RowColumns): number {
  let n = 0;
  for (const k of ROW_ARRAYS) n += rows[k].byteLength;
  return n;
}

/** The f64 columns of RowColumns: ids and µs times, integers below 2^53. */
export const ID_TIME_COLUMNS = [
  "id",
  "first_id",
  "last_id",
  "trade_time_us",
  "event_time_us",
  "recv_time_us",
] as const;
export type IdTimeColumn = (typeof ID_TIME_COLUMNS)[number];

/** The 8-byte columns of RowColumns (f64 ids and times, int64 decimals), in row-layout order. */
export const WIDE_COLUMNS = [...ID_TIME_COLUMNS, "dec0", "dec1", "dec2", "dec3"] as const;
export type WideColumn = (typeof WIDE_COLUMNS)[number];

/** The arrays of a RowColumns that own their buffers (the dec*w views alias dec0..dec3). */
export const ROW_ARRAYS = ["kind", "symbol_id", ...WIDE_COLUMNS, "flags"] as const;
type RowArray = (typeof ROW_ARRAYS)[number];

/** Every slot but quotes' second pair of decimals: aggregate trades and book snapshots. */
const ID_RANGE_SLOTS: readonly (WideColumn | "flags")[] = [...ID_TIME_COLUMNS, "dec0", "dec1", "flags"];

/**
 * The columns each table fills, as the table above says (the others stay zero), in row-layout
 * order: what the Parquet batch keeps and the bus carries.
 */

export const TABLE_ROW_SLOTS: Readonly<Record<TableName, readonly (WideColumn | "flags")[]>> = {
  trades: ["id", "trade_time_us", "event_time_us", "recv_time_us", "dec0", "dec1", "flags"],
  agg_trades: ID_RANGE_SLOTS,
  quotes: ["id", "event_time_us", "recv_time_us", "dec0", "dec1", "dec2", "dec3"],
  // Order books: see model/book-rows.ts.
  book_deltas: ["id", "first_id", "last_id", "event_time_us", "recv_time_us", "dec0", "dec1", "flags"],
  // The same slots as agg_trades, filled otherwise (book-rows.ts).
  book_snapshots: ID_RANGE_SLOTS,
  // recv_time_us is set but not stored (book_checkpoints has no such column).
  book_checkpoints: ["id", "first_id", "trade_time_us", "event_time_us", "dec0", "dec1", "flags"],
};

const TABLE_SLOT_SETS: Readonly<Record<TableName, ReadonlySet<RowArray>>> = perTable(
  (t) => new Set<RowArray>(TABLE_ROW_SLOTS[t]),
);

/** A buffer of `capacity` rows holding the first `count` rows of `src` (one copy per column;
 * the dec*w word views follow their buffers), with the same slots empty as `src`, shared if it is. */
export function growRows(src: RowColumns, count: number, capacity: number): RowColumns {
  const out = allocWith(capacity, (k) => src[k].length > 0, isSharedRows(src));
  for (const k of ROW_ARRAYS) (out[k] as Float64Array).set((src[k] as Float64Array).subarray(0, count));
  return out;
}

/**
 * Copy row `from` of `src` into row `to` of `dst` (used by the ring consumer and batchers).
 * Decimals move as uint32 words: reading a BigInt64Array element makes a heap BigInt for any
 * value past 32 bits (every scaled price), four per row — the profile of bench-e2e showed these
 * lines among K2's hottest (native-bench/e2e-throughput.ts --cpu-prof).
 */
export function copyRow(src: RowColumns, from: number, dst: RowColumns, to: number): void {
  dst.kind[to] = src.kind[from]!;
  dst.symbol_id[to] = src.symbol_id[from]!;
  dst.id[to] = src.id[from]!;
  dst.first_id[to] = src.first_id[from]!;
  dst.last_id[to] = src.last_id[from]!;
  dst.trade_time_us[to] = src.trade_time_us[from]!;
  dst.event_time_us[to] = src.event_time_us[from]!;
  dst.recv_time_us[to] = src.recv_time_us[from]!;
  const f = from * 2;
  const t = to * 2;
  dst.dec0w[t] = src.dec0w[f]!;
  dst.dec0w[t + 1] = src.dec0w[f + 1]!;
  dst.dec1w[t] = src.dec1w[f]!;
  dst.dec1w[t + 1] = src.dec1w[f + 1]!;
  dst.dec2w[t] = src.dec2w[f]!;
  dst.dec2w[t + 1] = src.dec2w[f + 1]!;
  dst.dec3w[t] = src.dec3w[f]!;
  dst.dec3w[t + 1] = src.dec3w[f + 1]!;
  dst.flags[to] = src.flags[from]!;
}

/**
 * copyRow into a buffer of allocTableRows(kind's table): only the slots that table stores (the
 * batcher's per-row copy, so no store lands in an empty array on the common tables).
 */
export function copyTableRow(
  kind: TableId,
  src: RowColumns,
  from: number,
  dst: RowColumns,
  to: number,
): void {
  if (kind > Table.quotes) {
    copyBookRow(src, from, dst, to);
    return;
  }
  dst.kind[to] = kind;
  dst.symbol_id[to] = src.symbol_id[from]!;
  dst.id[to] = src.id[from]!;
  dst.event_time_us[to] = src.event_time_us[from]!;
  dst.recv_time_us[to] = src.recv_time_us[from]!;
  const f = from * 2;
  const t = to * 2;
  dst.dec0w[t] = src.dec0w[f]!;
  dst.dec0w[t + 1] = src.dec0w[f + 1]!;
  dst.dec1w[t] = src.dec1w[f]!;
  dst.dec1w[t + 1] = src.dec1w[f + 1]!;
  if (kind === Table.quotes) {
    dst.dec2w[t] = src.dec2w[f]!;
    dst.dec2w[t + 1] = src.dec2w[f + 1]!;
    dst.dec3w[t] = src.dec3w[f]!;
    dst.dec3w[t + 1] = src.dec3w[f + 1]!;
    return;
  }
  dst.trade_time_us[to] = src.trade_time_us[from]!;
  dst.flags[to] = src.flags[from]!;
  if (kind === Table.agg_trades) {
    dst.first_id[to] = src.first_id[from]!;
    dst.last_id[to] = src.last_id[from]!;
  }
}

/** The order-book tables use several layouts (model/book-rows.ts): each slot copied if it has room. */
function copyBookRow(src: RowColumns, from: number, dst: RowColumns, to: number): void {
  dst.kind[to] = src.kind[from]!;
  dst.symbol_id[to] = src.symbol_id[from]!;
  for (const k of BOOK_F64) if (dst[k].length > 0) dst[k][to] = src[k][from]!;
  const f = from * 2;
  const t = to * 2;
  for (const k of BOOK_WORDS) {
    if (dst[k].length === 0) continue;
    dst[k][t] = src[k][f]!;
    dst[k][t + 1] = src[k][f + 1]!;
  }
  if (dst.flags.length > 0) dst.flags[to] = src.flags[from]!;
}
const BOOK_F64 = ID_TIME_COLUMNS;
const BOOK_WORDS = ["dec0w", "dec1w", "dec2w", "dec3w"] as const;
