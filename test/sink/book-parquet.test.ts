/**
 * The order-book tables' own parts of the storage path, each against an independent reference:
 * K2's column writer vs hyparquet-writer (the reference encoder), both read back by hyparquet;
 * compaction of overlapping files (dedup by id, the flag-derived columns turned back into flags
 * and out again); and the WAL record of book rows (ingest/book-rows.ts) round trip.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { BOOK_ROWS_TAG, BookRecordDecoder, BookRecordEncoder } from "../../src/ingest/book-rows.ts";
import {
  allocRowColumns,
  BOOK_TABLE_NAMES,
  type BookTableName,
  ROW_ARRAYS,
  type RowColumns,
  SymbolTable,
  TABLE_COLUMNS,
} from "../../src/model/index.ts";
import {
  buildBatch,
  compactJob,
  dayOfUs,
  encodeParquet,
  nodeParquetFs,
  writeJob,
} from "../../src/sink/parquet/index.ts";
import { WalTag } from "../../src/sink/wal/index.ts";
import { bookFixture } from "./book-fixture.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const ZSTD = { ZSTD: (input: Uint8Array) => Bun.zstdDecompressSync(input) };
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Rows of one (table, symbol, UTC day) from the fixture, in one RowColumns. */
function partitionRows(table: BookTableName, symbol: string): { rows: RowColumns; n: number; date: number } {
  const calls = bookFixture(SYMBOLS).calls.filter((c) => c.table === table && c.symbol === symbol);
  const all = allocRowColumns(calls.reduce((a, c) => a + c.count, 0));
  let n = 0;
  for (const c of calls)
    for (let i = 0; i < c.count; i++, n++)
      for (const k of ROW_ARRAYS) (all[k] as Float64Array)[n] = (c.rows[k] as Float64Array)[i]!;
  // The newest day only: a batch holds one UTC date.
  const date = dayOfUs(all.event_time_us[n - 1]!);
  const out = allocRowColumns(n);
  let m = 0;
  for (let i = 0; i < n; i++)
    if (dayOfUs(all.event_time_us[i]!) === date) {
      for (const k of ROW_ARRAYS) (out[k] as Float64Array)[m] = (all[k] as Float64Array)[i]!;
      m++;
    }
  return { rows: out, n: m, date };
}

const read = async (bytes: Uint8Array) =>
  (await parquetReadObjects({
    file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    compressors: ZSTD,
  })) as Record<string, unknown>[];

test("each book table: K2's column writer and hyparquet-writer give the same rows, every column", async () => {
  for (const table of BOOK_TABLE_NAMES) {
    const { rows, n } = partitionRows(table, "ETHUSDT");
    const batch = buildBatch(
      table,
      "ETHUSDT",
      1,
      rows,
      Array.from({ length: n }, (_, i) => i),
    );
    const input = { ...batch, rows: n, columns: batch.columns };
    const fast = await read(encodeParquet(input, { fast: true, rowGroupRows: 5 }).bytes);
    const ref = await read(encodeParquet(input, { fast: false, rowGroupRows: 5 }).bytes);
    expect(fast.length).toBe(n);
    expect(Object.keys(fast[0]!)).toEqual(TABLE_COLUMNS[table].map((c) => c.name));
    expect(fast).toEqual(ref);
    // Every value of the flag-derived columns occurs (a one-value dictionary would hide a bug).
    const distinct = (c: string) => new Set(fast.map((r) => String(r[c]))).size;
    expect(distinct("side")).toBe(2);
    if (table === "book_checkpoints") expect(distinct("level_state")).toBe(3);
    if (table === "book_snapshots") expect(distinct("is_verified")).toBe(2);
  }
});

test("compaction of overlapping book files keeps each id once, with the same stored values", async () => {
  dir = mkdtempSync(join(tmpdir(), "k2-book-compact-"));
  for (const table of BOOK_TABLE_NAMES) {
    const { rows, n } = partitionRows(table, "BTCUSDT");
    const write = (slots: number[], seq: number) => {
      const b = buildBatch(table, "BTCUSDT", 0, rows, slots);
      return writeJob(
        nodeParquetFs,
        { ...b, dataDir: dir!, rows: slots.length, writtenAtMs: 1, seq },
        { zstdLevel: 1 },
      );
    };
    const idx = Array.from({ length: n }, (_, i) => i);
    // Two files sharing the middle third: a replayed batch written again.
    const a = write(idx.slice(0, Math.ceil((2 * n) / 3)), 1);
    const b = write(idx.slice(Math.floor(n / 3)), 2);
    const merged = await compactJob(
      nodeParquetFs,
      {
        dataDir: dir,
        table,
        symbol: "BTCUSDT",
        date: a.date,
        sources: [a.path, b.path],
        writtenAtMs: 1,
        seq: 3,
      },
      {},
    );
    expect(merged.duplicatesDropped).toBe(a.rows + b.rows - n);
    const got = await read(readFileSync(merged.info.path));
    const whole = await read(encodeParquet({ ...buildBatch(table, "BTCUSDT", 0, rows, idx), rows: n }).bytes);
    expect(got).toEqual(whole);
  }
});

test("a WAL record of book rows comes back exactly; damage and unknown symbols are refused", () => {
  expect(BOOK_ROWS_TAG).toBe(WalTag.book_rows);
  const symbols = new SymbolTable(SYMBOLS);
  const enc = new BookRecordEncoder();
  const dec = new BookRecordDecoder(allocRowColumns(1));
  for (const c of bookFixture(SYMBOLS).calls) {
    const payload = enc.encode(c.rows, 0, c.count, c.symbol);
    expect(dec.decode(payload, symbols)).toBe(c.count);
    for (const k of ROW_ARRAYS)
      for (let i = 0; i < c.count; i++) expect([k, dec.rows[k][i]]).toEqual([k, c.rows[k][i]!]);
  }
  const c = bookFixture(SYMBOLS).calls[3]!;
  const payload = enc.encode(c.rows, 1, c.count - 1, c.symbol);
  expect(dec.decode(payload.slice(0, -8), symbols)).toBe(-1); // truncated
  expect(dec.decode(payload, new SymbolTable(["SOLUSDT"]))).toBe(-1); // symbol not configured now
  expect(dec.decode(payload, symbols)).toBe(c.count - 1);
  expect(dec.rows.id[0]).toBe(c.rows.id[1]!);
});
