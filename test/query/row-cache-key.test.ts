/**
 * A stored page over files that did not change is the same cached result after new files land:
 * the cold SELECT's id bound follows the files it reads, not the moving split between files and
 * memory (src/query/rows.ts coldSelect). Before, a day's first page missed the row cache on
 * every call once a file was added, and the misses' entries piled up until the cache's bound.
 * Real pieces: the writer pool's files, the catalog, DuckDB.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog } from "../../src/catalog/index.ts";
import { fileSourceOf } from "../../src/catalog/views.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { QueryEngine } from "../../src/query/engine.ts";
import { buildBatch, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { DAY0_US, tradeRows } from "../sink/parquet.case.ts";

const PER_FILE = 2_000;
const STEP_US = 1_000_000;
const dir = mkdtempSync(join(tmpdir(), "k2-row-key-"));
const catalog = new Catalog();
let pool: ParquetWriterPool;
let engine: QueryEngine;

/** The next file of BTCUSDT trades, ids `first`..`first + PER_FILE - 1`, into the catalog. */
async function addFile(first: number): Promise<void> {
  const rows = tradeRows(PER_FILE, 0, first, DAY0_US + (first - 1) * STEP_US, STEP_US);
  const slots = Array.from({ length: PER_FILE }, (_, k) => k);
  catalog.add(await pool.write(buildBatch("trades", "BTCUSDT", 0, rows, slots)));
}

beforeAll(async () => {
  pool = await ParquetWriterPool.start({ dataDir: dir, workers: 1 });
  await addFile(1);
  await addFile(1 + PER_FILE);
  engine = await QueryEngine.open(
    { source: fileSourceOf(catalog, () => ["BTCUSDT"]), symbols: new SymbolTable(["BTCUSDT"]) },
    { hotRowsPerSymbol: 1_000, maxScanRows: 1_000_000 },
  );
});
afterAll(async () => {
  engine?.close();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the day's first page stays one cache entry while newer files land", async () => {
  const q = { table: "trades", symbol: "BTCUSDT", limit: 100, order: "asc" } as const;
  const first = await engine.rows(q);
  const ids = first.frame.data[first.frame.columns.findIndex((c) => c.name === "trade_id")]!;
  expect([ids[0], ids[99], ids.length]).toEqual([1, 100, 100]);
  const cells = engine.rowCache.cells;
  for (let i = 2; i < 5; i++) {
    await addFile(1 + i * PER_FILE);
    const runs = engine.duck.queries;
    const hits = engine.rowCache.hits;
    const again = await engine.rows(q);
    expect(again.frame.data).toEqual(first.frame.data);
    expect(engine.duck.queries).toBe(runs); // no DuckDB run: the cached result
    expect(engine.rowCache.hits).toBe(hits + 1);
  }
  expect(engine.rowCache.cells).toBe(cells); // no new entries
  // A page that does reach the newest file is a new result (and is right).
  const tail = await engine.rows({ ...q, cursorId: 5 * PER_FILE - 50 });
  const tailIds = tail.frame.data[tail.frame.columns.findIndex((c) => c.name === "trade_id")]!;
  expect([tailIds[0], tailIds.at(-1), tailIds.length]).toEqual([5 * PER_FILE - 49, 5 * PER_FILE, 50]);
});
