/**
 * The soak's stored-trades reader counts what a reader of K2's files must see: compaction
 * sources a merged file replaces are still on disk until deleteRetired (and stay there while a
 * query pins them, also when K2 stops), and must not be counted a second time.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog, compactSmallFiles } from "../../src/catalog/index.ts";
import { span, writeIds } from "../../src/catalog/testdata/files.ts";
import { ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { storedIslands } from "./completeness.ts";

let dataDir = "";
let pool: ParquetWriterPool;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "k2-soak-stored-"));
  pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
});
afterEach(async () => {
  await pool.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test("retired compaction sources left on disk are not counted twice; real duplicates still are", async () => {
  const catalog = new Catalog();
  const sources = [
    await writeIds(pool, catalog, "trades", "BTCUSDT", span(1, 10)),
    await writeIds(pool, catalog, "trades", "BTCUSDT", span(11, 20)),
    await writeIds(pool, catalog, "trades", "BTCUSDT", span(31, 40)),
  ];
  // A query still reading the sources (never released): compaction merges them but cannot delete them.
  catalog.pin(sources.map((f) => f.path));
  await compactSmallFiles({ catalog, pool, pinTimeoutMs: 50 }, { minFiles: 3, smallerThanRows: 50 });
  expect(sources.every((f) => existsSync(f.path))).toBe(true);
  expect(catalog.files({ table: "trades", symbol: "BTCUSDT" }).length).toBe(1); // the merged file alone is listed

  const before = (await storedIslands(dataDir)).get("BTCUSDT")!;
  expect(before).toEqual({
    rows: 30,
    distinct: 30,
    islands: [
      [1, 20],
      [31, 40],
    ],
  });

  // A file that repeats ids (no k2.replaces names it) is a real duplicate and is counted.
  await writeIds(pool, catalog, "trades", "BTCUSDT", span(15, 16));
  const after = (await storedIslands(dataDir)).get("BTCUSDT")!;
  expect(after).toEqual({
    rows: 32,
    distinct: 30,
    islands: [
      [1, 20],
      [31, 40],
    ],
  });
});
