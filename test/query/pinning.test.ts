/**
 * Queries pin the files they read: a compaction that retires a file while DuckDB reads it must
 * leave the file on disk until the query is done, and a query that fails still unpins.
 * Real pieces: the catalog rebuilt from the fixture's Parquet files, the real writer pool for
 * the compaction, DuckDB for the reads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog, compactPartition, deleteRetired } from "../../src/catalog/index.ts";
import { fileSourceOf } from "../../src/catalog/views.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { QueryEngine } from "../../src/query/engine.ts";
import { buildBatch, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { DAY0_US, tradeRows } from "../sink/parquet.case.ts";

/** 8 files of 5,000 trades, ids 1..40,000, one every 2 s from the start of DAY0 (all one date). */
const FILES = 8;
const PER_FILE = 5_000;
const TOTAL = FILES * PER_FILE;
const STEP_US = 2_000_000;

const dir = mkdtempSync(join(tmpdir(), "k2-pin-"));
const catalog = new Catalog();
let pool: ParquetWriterPool;
let engine: QueryEngine;

beforeAll(async () => {
  pool = await ParquetWriterPool.start({ dataDir: dir, workers: 1 });
  for (let i = 0; i < FILES; i++) {
    const first = 1 + i * PER_FILE;
    const rows = tradeRows(PER_FILE, 0, first, DAY0_US + (first - 1) * STEP_US, STEP_US);
    const slots = Array.from({ length: PER_FILE }, (_, k) => k);
    catalog.add(await pool.write(buildBatch("trades", "BTCUSDT", 0, rows, slots)));
  }
  engine = await QueryEngine.open(
    { source: fileSourceOf(catalog, () => ["BTCUSDT"]), symbols: new SymbolTable(["BTCUSDT"]) },
    { hotRowsPerSymbol: 1_000, maxScanRows: 1_000_000 },
  );
  catalog.onForget((paths) => engine.rowCache.dropFiles(paths)); // as src/pipeline wires it
});
afterAll(async () => {
  engine?.close();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("query snapshots pin their files", () => {
  test("pinned while a row query runs, released after it", async () => {
    expect(catalog.pinnedCount).toBe(0);
    const p = engine.rows({ table: "trades", symbol: "BTCUSDT", limit: 100, order: "asc" });
    // The listing and the pin happen in the call's synchronous part.
    expect(catalog.pinnedCount).toBeGreaterThan(0);
    const res = await p;
    expect(res.frame.length).toBe(100);
    expect(catalog.pinnedCount).toBe(0);
  });

  test("a repeated stored page comes from the row cache: same rows, no DuckDB run", async () => {
    const q = { table: "trades", symbol: "BTCUSDT", limit: 100, order: "desc", cursorId: 20_000 } as const;
    const first = await engine.rows(q);
    const runs = engine.duck.queries;
    const hits = engine.rowCache.hits;
    const again = await Promise.all([engine.rows(q), engine.rows(q)]);
    expect(engine.duck.queries).toBe(runs);
    expect(engine.rowCache.hits).toBe(hits + 2);
    for (const r of again) expect(r.frame.data).toEqual(first.frame.data);
    const ids = first.frame.data[first.frame.columns.findIndex((c) => c.name === "trade_id")]!;
    expect(ids[0]).toBe(19_999);
    expect(ids.length).toBe(100);
    expect(engine.rowCache.cells).toBeGreaterThan(0);
    expect(catalog.pinnedCount).toBe(0); // a hit still pins and releases its snapshot
  });

  test("a candle query pins and releases too", async () => {
    const p = engine.ohlcv({ symbol: "BTCUSDT", interval: "1h", limit: 1000, fill: "none" });
    expect(catalog.pinnedCount).toBeGreaterThan(0);
    const res = await p;
    const counts = res.frame.data[res.frame.columns.findIndex((c) => c.name === "trade_count")]!;
    expect(counts.reduce((a: number, c) => a + Number(c), 0)).toBe(TOTAL);
    expect(catalog.pinnedCount).toBe(0);
  });

  test("a query refused by the scan budget after listing still unpins", async () => {
    const tight = await QueryEngine.open(
      { source: fileSourceOf(catalog, () => ["BTCUSDT"]), symbols: new SymbolTable(["BTCUSDT"]) },
      { hotRowsPerSymbol: 1_000, maxScanRows: 10 },
    );
    try {
      await expect(
        tight.rows({ table: "trades", symbol: "BTCUSDT", limit: 10, order: "asc", fromUs: DAY0_US }),
      ).rejects.toThrow(/over the limit of 10/);
      expect(catalog.pinnedCount).toBe(0);
    } finally {
      tight.close();
    }
  });

  test("compaction during queries: no query fails or loses rows; old files go once unpinned", async () => {
    const date = catalog.files({ table: "trades", symbol: "BTCUSDT" })[0]!.date;
    const before = catalog.files({ table: "trades", symbol: "BTCUSDT", date });
    expect(before.length).toBe(FILES);
    {
      // Readers page through the whole table, over and over, while the first date is compacted.
      let compacted = false;
      const reader = async () => {
        let rounds = 0;
        for (let after = 0; rounds < 200 && after < 2; rounds++) {
          if (compacted) after++;
          let cursorId: number | undefined;
          let seen = 0;
          let last = 0;
          for (let page = 0; page < 20; page++) {
            const r = await engine.rows({
              table: "trades",
              symbol: "BTCUSDT",
              limit: 4_000,
              order: "asc",
              ...(cursorId !== undefined ? { cursorId } : {}),
            });
            const ids = r.frame.data[r.frame.columns.findIndex((c) => c.name === "trade_id")]!;
            for (const id of ids) {
              expect(id as number).toBe(last + 1); // no gap, no repeat
              last = id as number;
            }
            seen += r.frame.length;
            if (r.nextCursorId === null) break;
            cursorId = r.nextCursorId;
          }
          expect(seen).toBe(TOTAL);
        }
        return rounds;
      };
      const readers = Promise.all([reader(), reader()]);
      const out = await compactPartition(
        { catalog, pool, pinTimeoutMs: 10_000 },
        {
          table: "trades",
          symbol: "BTCUSDT",
          date,
        },
      );
      compacted = true;
      const rounds = await readers;
      expect(out).not.toBeNull();
      expect(out!.replaced.length).toBe(FILES);
      expect(out!.merged.rows).toBe(TOTAL);
      expect(rounds.every((r) => r >= 2)).toBe(true);
      expect(catalog.pinnedCount).toBe(0);
      await deleteRetired(catalog);
      for (const f of before) expect(existsSync(f.path)).toBe(false);
      expect(catalog.retiredCount).toBe(0);
    }
  }, 30_000); // readers (fast row-cache hits) delay the unpinned moment past 5 s on a loaded CI

  test("a file retired and deleted while a query reads it stays until the query is done", async () => {
    const files = catalog.files({ table: "trades", symbol: "BTCUSDT" });
    expect(files.length).toBe(1); // the merged file of the test above
    const p = engine.rows({ table: "trades", symbol: "BTCUSDT", limit: 10_000, order: "asc" });
    // Retention-like removal in the same tick, then an immediate delete attempt.
    expect(catalog.swap(files)).toBe(true);
    expect(await deleteRetired(catalog)).toBe(0);
    expect(existsSync(files[0]!.path)).toBe(true);
    const res = await p;
    expect(res.frame.length).toBe(10_000);
    expect(await deleteRetired(catalog)).toBe(1);
    expect(existsSync(files[0]!.path)).toBe(false);
  });
});
