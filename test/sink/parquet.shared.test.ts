/**
 * The live batcher's files: its batch buffer (the table's slots, in shared memory) becomes the
 * file's columns with no copy (batchOver). The worker reads the rows in place, so they stay with
 * the caller while and after it writes, a failed write leaves them for the retry, and the file
 * reads back (hyparquet) exactly as the conformance cases say.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allocRowColumns, ROW_ARRAYS, type RowColumns, Table } from "../../src/model/index.ts";
import {
  AppendStatus,
  batchOver,
  dayOfUs,
  ParquetSinkError,
  ParquetWriterPool,
  readParquetRows,
  type TableBatch,
} from "../../src/sink/parquet/index.ts";
import { CASES, expectedRows, sharedTableRows } from "./parquet.case.ts";

let dataDir: string;
let pool: ParquetWriterPool;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "k2-parquet-shared-"));
  pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
});
afterAll(async () => {
  await pool.close();
  await rm(dataDir, { recursive: true, force: true });
});

const SYMBOL_ID = 3;

/** A conformance case's rows as the batcher holds them, and its batch over them. */
function caseBatch(c: (typeof CASES)[number]) {
  const { rows, n } = c.build(SYMBOL_ID);
  const shared = sharedTableRows(c.table, rows, n);
  const key = { table: c.table, symbol: c.symbol, symbolId: SYMBOL_ID, day: dayOfUs(rows.event_time_us[0]!) };
  const tb = batchOver(key, shared, n);
  if (typeof tb === "number") throw new Error(`refused: ${tb}`);
  return { want: expectedRows(c.table, c.symbol, rows, n), shared, tb, n, key };
}

/** Every array's first `n` values, to compare before and after. */
const contents = (rows: RowColumns, n: number) =>
  ROW_ARRAYS.map((k) => Array.from(rows[k].subarray(0, n) as ArrayLike<unknown>));

describe("batchOver: a file written from the batcher's own buffer", () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const { want, shared, tb, n } = caseBatch(c);
      const before = contents(shared, n);
      expect(tb.columns.id).toBe(shared.id); // the same array: no copy
      const pending = pool.write(tb);
      expect(shared.id.length).toBe(n); // nothing transferred: still readable here
      const info = await pending;
      expect(info.rows).toBe(n);
      expect(await readParquetRows(info.path)).toEqual(want);
      // The rows are still the caller's, unchanged, for whatever it does next.
      expect(contents(shared, n)).toEqual(before);
    });
  }

  test("a write that fails in the worker leaves the rows in place; the retry writes them all", async () => {
    const c = CASES[0]!;
    const { want, shared, tb, n, key } = caseBatch(c);
    await pool.setFaults([{ op: "write", code: "ENOSPC" }]);
    const err = await pool.write(tb).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetSinkError);
    expect((err as ParquetSinkError).kind).toBe("no_space");
    await pool.setFaults([]);
    expect(shared.id.length).toBe(n);
    const again = batchOver(key, shared, n) as TableBatch;
    const info = await pool.write(again);
    expect(await readParquetRows(info.path)).toEqual(want);
  });

  test("rows of another table, symbol or date are refused with a status; unshared rows are a caller's error", () => {
    const c = CASES[0]!;
    const { shared, n, key } = caseBatch(c);
    expect(batchOver({ ...key, table: "quotes" }, shared, n)).toBe(AppendStatus.wrong_table);
    expect(batchOver({ ...key, symbolId: SYMBOL_ID + 1 }, shared, n)).toBe(AppendStatus.wrong_symbol);
    expect(batchOver({ ...key, day: key.day + 1 }, shared, n)).toBe(AppendStatus.wrong_date);
    expect(() => batchOver(key, allocRowColumns(n), n)).toThrow(RangeError);
    expect(() => batchOver(key, shared, n + 1)).toThrow(RangeError);
  });

  test("flag bits the table does not keep are cleared (trades keep buyer-is-maker only)", () => {
    const { shared, n, key } = caseBatch(CASES[0]!);
    shared.flags[0] = 0b110;
    shared.flags[1] = 0b111;
    const tb = batchOver(key, shared, n) as TableBatch;
    expect([tb.columns.flags[0], tb.columns.flags[1]]).toEqual([0, 1]);
    expect(shared.kind[0]).toBe(Table.trades);
  });
});
