/**
 * A query node cannot pin the shared folder's files: a writer deletes a replaced file once its
 * grace period is over, and a query whose listing still names it made DuckDB fail ("Cannot open
 * file"). The engine now lists the folder again and re-runs the query (bounded). Real pieces: the
 * writer pool's Parquet files, the query node's rescan of the folder (src/roles/query.ts), DuckDB.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog } from "../../src/catalog/index.ts";
import { fileSourceOf } from "../../src/catalog/views.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { QueryEngine } from "../../src/query/engine.ts";
import { rescan } from "../../src/roles/query.ts";
import { buildBatch, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { DAY0_US, tradeRows } from "../sink/parquet.case.ts";

const PER_FILE = 5_000;
const STEP_US = 2_000_000;
const dir = mkdtempSync(join(tmpdir(), "k2-relist-"));
let pool: ParquetWriterPool;

/** One file of trades `first`..`first + PER_FILE - 1`; its path. */
async function writeFile(first: number): Promise<string> {
  const rows = tradeRows(PER_FILE, 0, first, DAY0_US + (first - 1) * STEP_US, STEP_US);
  const slots = Array.from({ length: PER_FILE }, (_, k) => k);
  return (await pool.write(buildBatch("trades", "BTCUSDT", 0, rows, slots))).path;
}

/**
 * The second file is replaced behind the catalog's back: a new file with its rows is written and
 * the old one deleted, as a writer does after the grace period. The catalog still lists the old.
 */
async function replaceBehindListing(old: string): Promise<string> {
  const fresh = await writeFile(PER_FILE + 1);
  rmSync(old);
  return fresh;
}

async function engineOver(catalog: Catalog, relist?: () => Promise<void>): Promise<QueryEngine> {
  return QueryEngine.open(
    { source: fileSourceOf(catalog, () => ["BTCUSDT"], relist), symbols: new SymbolTable(["BTCUSDT"]) },
    { hotRowsPerSymbol: 1_000, maxScanRows: 1_000_000, rowCacheCells: 0, candleCachePartials: 0 },
  );
}

const ids = (r: Awaited<ReturnType<QueryEngine["rows"]>>) =>
  r.frame.data[r.frame.columns.findIndex((c) => c.name === "trade_id")]! as number[];
const all = { table: "trades", symbol: "BTCUSDT", limit: 2 * PER_FILE, order: "asc" } as const;

beforeAll(async () => {
  pool = await ParquetWriterPool.start({ dataDir: dir, workers: 1 });
});
afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a file deleted under a query node's listing", () => {
  test("without a new listing the query fails; with one it is answered from the folder as it is now", async () => {
    await writeFile(1);
    let second = await writeFile(PER_FILE + 1);
    const stale = new Catalog();
    await rescan(stale, dir);
    expect(stale.size).toBe(2);

    // The failure this fixes: a source that cannot list again.
    const fixed = await engineOver(stale);
    second = await replaceBehindListing(second);
    try {
      await expect(fixed.rows(all)).rejects.toThrow(/Cannot open file|No files found/);
    } finally {
      fixed.close();
    }

    // The query node's source lists the folder again and the engine runs the query once more.
    const catalog = new Catalog();
    await rescan(catalog, dir);
    let listings = 0;
    const engine = await engineOver(catalog, async () => {
      listings++;
      await rescan(catalog, dir);
    });
    try {
      second = await replaceBehindListing(second);
      const rows = await engine.rows(all);
      expect(listings).toBe(1);
      expect(ids(rows)).toEqual(Array.from({ length: 2 * PER_FILE }, (_, i) => i + 1));

      // Candles and the daily summary alike (each lists its own files): equal to the answer of
      // an engine over a fresh listing of the folder.
      await replaceBehindListing(second);
      const date = new Date(DAY0_US / 1000).toISOString().slice(0, 10);
      const day = await engine.summary("BTCUSDT", date);
      expect(listings).toBe(2);
      const fresh = new Catalog();
      await rescan(fresh, dir);
      const control = await engineOver(fresh);
      try {
        const want = await control.summary("BTCUSDT", date);
        expect(want.candle?.count).toBeGreaterThan(PER_FILE);
        expect(day.candle).toEqual(want.candle);
      } finally {
        control.close();
      }
    } finally {
      engine.close();
    }
  }, 20_000);
});
