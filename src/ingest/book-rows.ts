/**
 * Order-book rows in the WAL. Book rows are not frames: a delta row comes from a diff event the
 * book applied, a snapshot or checkpoint row from the book itself (src/book/), so replaying the
 * raw depth frames would need the book's state at the crash. Instead the rows of one call to
 * `Ingest.onBookRows` are logged as one WAL record (tag BOOK_ROWS_TAG) and replayed as rows,
 * deduplicated by exact id against the files like every other row (ingest/replay.ts).
 *
 * Payload: the bytes below, base64 (the WAL stores text; base64 is ASCII, so the UTF-8 round trip
 * is exact). Little-endian; columns follow each other, each `count` values long.
 *
 * | offset | size   | field                                                        |
 * |--------|--------|--------------------------------------------------------------|
 * | 0      | 1      | format version (BOOK_RECORD_VERSION)                         |
 * | 1      | 1      | table id (model Table: 4, 5 or 6)                            |
 * | 2      | 2      | symbol length in bytes (u16)                                 |
 * | 4      | 4      | count (u32)                                                  |
 * | 8      | s      | symbol, ASCII (a name: symbol ids are interned per process)  |
 * | 8 + s  | 48·n   | id, first_id, last_id, trade_time_us, event_time_us, recv_time_us (f64) |
 * | …      | 16·n   | dec0, dec1 (int64 as two u32 words, low first)               |
 * | …      | n      | flags (u8)                                                   |
 */
import { growRows, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { isBookTable } from "../model/tables.ts";

/** The WAL tag of a book-rows record; the same value as sink/wal WalTag.book_rows (stored). */
export const BOOK_ROWS_TAG = 2;
export const BOOK_RECORD_VERSION = 1;

const HEADER_BYTES = 8;
const F64_COLUMNS = ["id", "first_id", "last_id", "trade_time_us", "event_time_us", "recv_time_us"] as const;
const BYTES_PER_ROW = 8 * F64_COLUMNS.length + 16 + 1;

/** What `Ingest.onBookRows` did with a call's rows. */
export const BookCommit = {
  /** Stored: every row not already accepted is in the ring and the WAL. */
  OK: 0,
  /** Every row's id was at or below the last accepted one for its (table, symbol): nothing to do. */
  DUPLICATE: 1,
  /** The degradation manager sheds this table now: nothing stored. */
  SHED: 2,
  /** The ring has no room for all the rows: nothing stored (try again later or resync). */
  RING_FULL: 3,
  /** The WAL refused the record (disk failing, buffer full): nothing stored. */
  WAL_REFUSED: 4,
  /** Not rows of one book table and symbol with rising ids: a caller bug, nothing stored. */
  BAD_ROWS: 5,
} as const;
export type BookCommit = (typeof BookCommit)[keyof typeof BookCommit];

/** Why `checkBookRows` refuses rows, or null when they are one book table's, one symbol, ids rising. */
export function checkBookRows(rows: RowColumns, from: number, count: number): string | null {
  if (!Number.isInteger(count) || count < 1 || from < 0 || from + count > rows.capacity)
    return `rows ${from}..${from + count} are not inside a buffer of ${rows.capacity}`;
  const kind = rows.kind[from]!;
  const sym = rows.symbol_id[from]!;
  if (!isBookTable(kind)) return `table id ${kind} is not an order-book table`;
  for (let i = from + 1; i < from + count; i++) {
    if (rows.kind[i] !== kind || rows.symbol_id[i] !== sym) return `row ${i} is of another table or symbol`;
    if (!(rows.id[i]! > rows.id[i - 1]!)) return `row ${i}: id ${rows.id[i]} not above ${rows.id[i - 1]}`;
  }
  return null;
}

/** Encodes book rows into WAL payloads; one scratch buffer, grown for the largest call. */
export class BookRecordEncoder {
  #buf = Buffer.alloc(4096);

  /** Rows from..from+count-1 (one book table, one symbol: see checkBookRows) as a payload. */
  encode(rows: RowColumns, from: number, count: number, symbol: string): string {
    const size = HEADER_BYTES + symbol.length + BYTES_PER_ROW * count;
    if (size > this.#buf.length) this.#buf = Buffer.alloc(Math.max(size, 2 * this.#buf.length));
    const b = this.#buf;
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    b[0] = BOOK_RECORD_VERSION;
    b[1] = rows.kind[from]!;
    dv.setUint16(2, symbol.length, true);
    dv.setUint32(4, count, true);
    let off = HEADER_BYTES + b.write(symbol, HEADER_BYTES, "latin1");
    for (const c of F64_COLUMNS) {
      const src = rows[c];
      for (let i = 0; i < count; i++, off += 8) dv.setFloat64(off, src[from + i]!, true);
    }
    for (const w of [rows.dec0w, rows.dec1w]) {
      for (let i = 0; i < count; i++, off += 8) {
        dv.setUint32(off, w[2 * (from + i)]!, true);
        dv.setUint32(off + 4, w[2 * (from + i) + 1]!, true);
      }
    }
    for (let i = 0; i < count; i++) b[off++] = rows.flags[from + i]!;
    return b.toString("base64", 0, off);
  }
}

/** Decodes book-row payloads into `rows` (grown as needed), for WAL replay. */
export class BookRecordDecoder {
  rows: RowColumns;

  constructor(rows: RowColumns) {
    this.rows = rows;
  }

  /**
   * Rows 0..n-1 of `rows` from `payload`; returns n, or -1 when the payload is damaged or names a
   * symbol this process does not know (replay counts it as undecodable, like such a frame).
   */
  decode(payload: string, symbols: SymbolTable): number {
    const b = Buffer.from(payload, "base64");
    if (b.length < HEADER_BYTES || b[0] !== BOOK_RECORD_VERSION || !isBookTable(b[1]!)) return -1;
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    const kind = b[1]!;
    const symLen = dv.getUint16(2, true);
    const n = dv.getUint32(4, true);
    if (b.length !== HEADER_BYTES + symLen + BYTES_PER_ROW * n) return -1;
    const sym = symbols.id(b.toString("latin1", HEADER_BYTES, HEADER_BYTES + symLen));
    if (sym === undefined) return -1;
    if (n > this.rows.capacity) this.rows = growRows(this.rows, 0, n);
    const r = this.rows;
    let off = HEADER_BYTES + symLen;
    for (const c of F64_COLUMNS) {
      const dst = r[c];
      for (let i = 0; i < n; i++, off += 8) dst[i] = dv.getFloat64(off, true);
    }
    for (const w of [r.dec0w, r.dec1w]) {
      for (let i = 0; i < n; i++, off += 8) {
        w[2 * i] = dv.getUint32(off, true);
        w[2 * i + 1] = dv.getUint32(off + 4, true);
      }
    }
    for (let i = 0; i < n; i++) r.flags[i] = b[off++]!;
    r.kind.fill(kind, 0, n);
    r.symbol_id.fill(sym, 0, n);
    // The union row's other columns stay zero for book rows (model/book-rows.ts).
    r.dec2.fill(0n, 0, n);
    r.dec3.fill(0n, 0, n);
    return n;
  }
}
