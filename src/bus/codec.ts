/**
 * Rows on the bus: the columns of model/row.ts, copied as they are, for n rows of one (table,
 * symbol). K2 has no binary row record to reuse (the WAL holds raw frames, the Parquet worker gets
 * transferred buffers), so this is the one row encoding between processes; it is columnar like
 * RowColumns so encode and decode are one typed-array copy per column, no per-row work and no
 * BigInt. The symbol travels in the subject, as a name: symbol ids are interned per process.
 *
 * | offset    | size  | field                                                       |
 * |-----------|-------|-------------------------------------------------------------|
 * | 0         | 1     | format version (BUS_FORMAT_VERSION)                         |
 * | 1         | 1     | table id (model Table)                                      |
 * | 2         | 2     | 0 (reserved)                                                |
 * | 4         | 4     | n, row count (u32)                                          |
 * | 8         | 8n    | each column of BUS_COLUMNS[table], in order: f64 or i64     |
 * | 8 + 8nc   | n     | flags (tables whose TABLE_ROW_SLOTS hold them: not quotes)  |
 * All little-endian; columns start 8-byte aligned, so the reader can view them in place.
 */
import {
  perTable,
  type RowColumns,
  TABLE_ROW_SLOTS,
  Table,
  type TableName,
  WIDE_COLUMNS,
  type WideColumn,
} from "../model/index.ts";
import { BusError } from "./errors.ts";

export const BUS_FORMAT_VERSION = 1;
export const BUS_HEADER_BYTES = 8;

/**
 * The wide columns each table's message carries, in order (model/row.ts TABLE_ROW_SLOTS without
 * the flag byte, which follows them). Stored in streams: never reorder TABLE_ROW_SLOTS.
 */
export const BUS_COLUMNS: Readonly<Record<TableName, readonly WideColumn[]>> = perTable(wideOf);
function wideOf(t: TableName): WideColumn[] {
  return TABLE_ROW_SLOTS[t].filter((c): c is WideColumn => c !== "flags");
}
const HAS_FLAGS: Readonly<Record<TableName, boolean>> = perTable((t) => TABLE_ROW_SLOTS[t].includes("flags"));

export function encodedBytes(table: TableName, rows: number): number {
  return BUS_HEADER_BYTES + rows * (8 * BUS_COLUMNS[table].length + (HAS_FLAGS[table] ? 1 : 0));
}

/**
 * Rows [start, start + count) of `rows`, which must all be of `table` and one symbol (a caller
 * bug otherwise: RangeError), as one message body.
 */
export function encodeRows(rows: RowColumns, start: number, count: number, table: TableName): Uint8Array {
  if (!Number.isInteger(count) || count < 1 || start < 0 || start + count > rows.capacity)
    throw new RangeError(`rows ${start}..${start + count} are not inside a buffer of ${rows.capacity}`);
  const kind = Table[table];
  const sym = rows.symbol_id[start]!;
  for (let i = start; i < start + count; i++)
    if (rows.kind[i] !== kind || rows.symbol_id[i] !== sym)
      throw new RangeError(
        `row ${i} is not a ${table} row of symbol id ${sym}: one message holds one (table, symbol)`,
      );
  const out = new Uint8Array(encodedBytes(table, count));
  out[0] = BUS_FORMAT_VERSION;
  out[1] = kind;
  new DataView(out.buffer).setUint32(4, count, true);
  let off = BUS_HEADER_BYTES;
  for (const col of BUS_COLUMNS[table]) {
    const src = rows[col];
    const Ctor = src instanceof BigInt64Array ? BigInt64Array : Float64Array;
    new Ctor(out.buffer, off, count).set(src.subarray(start, start + count) as never);
    off += 8 * count;
  }
  if (HAS_FLAGS[table]) out.set(rows.flags.subarray(start, start + count), off);
  return out;
}

/** Row count of a message body (0 when it is too short to say). */
export function encodedRowCount(body: Uint8Array): number {
  if (body.length < BUS_HEADER_BYTES) return 0;
  return new DataView(body.buffer, body.byteOffset, BUS_HEADER_BYTES).getUint32(4, true);
}

/**
 * Decode a message body of `table` into `out` from slot `at` (kind and symbol_id set, the unused
 * columns zeroed as the decoders leave them); returns the row count. A body that is not what
 * encodeRows writes, or does not fit, is a BusError ("malformed") saying what was wrong.
 */
export function decodeRows(
  body: Uint8Array,
  table: TableName,
  out: RowColumns,
  at: number,
  symbolId: number,
): number {
  const bad = (what: string) => new BusError("malformed", `bus message for ${table}: ${what}`);
  if (body.length < BUS_HEADER_BYTES)
    throw bad(`${body.length} bytes, shorter than the ${BUS_HEADER_BYTES}-byte header`);
  if (body[0] !== BUS_FORMAT_VERSION)
    throw bad(`format version ${body[0]}, this build reads ${BUS_FORMAT_VERSION}`);
  if (body[1] !== Table[table]) throw bad(`payload says table id ${body[1]}, the subject says ${table}`);
  const n = encodedRowCount(body);
  if (body.length !== encodedBytes(table, n))
    throw bad(`${body.length} bytes, ${n} rows take ${encodedBytes(table, n)}`);
  if (at < 0 || at + n > out.capacity) throw bad(`${n} rows do not fit at slot ${at} of ${out.capacity}`);
  // Typed views need 8-byte alignment; a body inside a larger receive buffer may not have it.
  // new Uint8Array(body) copies (a Buffer's slice() would not: it is a view).
  const aligned = body.byteOffset % 8 === 0 ? body : new Uint8Array(body);
  let off = BUS_HEADER_BYTES;
  const used = BUS_COLUMNS[table];
  for (const col of used) {
    const dst = out[col];
    const Ctor = dst instanceof BigInt64Array ? BigInt64Array : Float64Array;
    dst.set(new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset + off, n) as never, at);
    off += 8 * n;
  }
  for (const col of UNUSED[table]) {
    const dst = out[col];
    if (dst instanceof BigInt64Array) dst.fill(0n, at, at + n);
    else dst.fill(0, at, at + n);
  }
  if (HAS_FLAGS[table]) out.flags.set(aligned.subarray(off, off + n), at);
  else out.flags.fill(0, at, at + n);
  out.kind.fill(Table[table], at, at + n);
  out.symbol_id.fill(symbolId, at, at + n);
  return n;
}

/** Every wide column of RowColumns a table leaves zero (decode zeroes them, as the decoders do). */
const UNUSED: Readonly<Record<TableName, readonly WideColumn[]>> = perTable((t) =>
  WIDE_COLUMNS.filter((c) => !BUS_COLUMNS[t].includes(c)),
);
