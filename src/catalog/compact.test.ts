/**
 * compactSmallFiles: the pass the pipeline's maintenance runs over every partition (today's
 * included). It must merge only the small files, leave full-size ones untouched, do nothing
 * where too few small files exist, and keep every id exactly once, on disk as well as in the
 * catalog (read back with DuckDB, not with the writer's own reader).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FileInfo, ParquetWriterPool, readStoredIds } from "../sink/parquet/index.ts";
import { Catalog } from "./catalog.ts";
import { compactClosedPartitions, compactSmallFiles } from "./compact.ts";
import { DAY0_US, idsOnDisk, span, writeIds } from "./testdata/files.ts";

let dataDir = "";
let pool: ParquetWriterPool;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "k2-compact-"));
  pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
});
afterEach(async () => {
  await pool.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const DAY1_US = DAY0_US + 86_400_000_000;
const POLICY = { minFiles: 3, smallerThanRows: 50 };
const paths = (fs: readonly FileInfo[]) => fs.map((f) => f.path).sort();

/** `n` files of 30 BTCUSDT trades on day 0, ids 1..30n, a minute apart. */
async function thirtyRowFiles(catalog: Catalog, n: number): Promise<FileInfo[]> {
  const files: FileInfo[] = [];
  for (let i = 0; i < n; i++)
    files.push(
      await writeIds(pool, catalog, "trades", "BTCUSDT", span(1 + 30 * i, 30 * (i + 1)), DAY0_US + i * 60e6),
    );
  return files;
}

describe("compactSmallFiles", () => {
  test("merges only the small files of each partition; large ones and thin partitions stay", async () => {
    const catalog = new Catalog();
    const deps = { catalog, pool, pinTimeoutMs: 1_000 };
    const put = (table: "trades" | "agg_trades", symbol: string, ids: number[], t0 = DAY0_US) =>
      writeIds(pool, catalog, table, symbol, ids, t0 + ids[0]! * 10_000);

    // BTCUSDT trades, day 0: three full-size files (≥ 50 rows, 50 itself is not small) and four
    // small ones, one of them a replayed batch that repeats four ids.
    const big = [
      await put("trades", "BTCUSDT", span(1, 100)),
      await put("trades", "BTCUSDT", span(131, 190)),
      await put("trades", "BTCUSDT", span(196, 245)),
    ];
    const small = [
      await put("trades", "BTCUSDT", span(101, 110)),
      await put("trades", "BTCUSDT", span(111, 130)),
      await put("trades", "BTCUSDT", span(191, 195)),
      await put("trades", "BTCUSDT", span(105, 108)),
    ];
    // ETHUSDT trades, day 0: four files but only two small: below minFiles, nothing happens.
    const eth = [
      await put("trades", "ETHUSDT", span(1, 60)),
      await put("trades", "ETHUSDT", span(61, 120)),
      await put("trades", "ETHUSDT", span(121, 125)),
      await put("trades", "ETHUSDT", span(126, 130)),
    ];
    // BTCUSDT trades, day 1: two small files only.
    const day1 = [
      await put("trades", "BTCUSDT", span(1000, 1009), DAY1_US),
      await put("trades", "BTCUSDT", span(1010, 1019), DAY1_US),
    ];
    // BTCUSDT agg trades, day 0: three small files, another table's partition is merged too.
    const agg = [
      await put("agg_trades", "BTCUSDT", span(1, 10)),
      await put("agg_trades", "BTCUSDT", span(11, 20)),
      await put("agg_trades", "BTCUSDT", span(21, 30)),
    ];

    const out = await compactSmallFiles(deps, POLICY);

    expect(out.map((o) => `${o.merged.table}/${o.merged.symbol}/${o.merged.date}`).sort()).toEqual([
      `agg_trades/BTCUSDT/${agg[0]!.date}`,
      `trades/BTCUSDT/${small[0]!.date}`,
    ]);
    const btc = out.find((o) => o.merged.table === "trades")!;
    expect(paths(btc.replaced)).toEqual(paths(small));
    expect(btc.duplicatesDropped).toBe(4);
    expect(btc.merged.rows).toBe(35);
    expect(Array.from(await readStoredIds(btc.merged.path, "trade_id"), Number)).toEqual([
      ...span(101, 130),
      ...span(191, 195),
    ]);
    // Large files are the very same entries; merged sources are gone from the catalog and disk.
    const btcDay0 = catalog.files({ table: "trades", symbol: "BTCUSDT", date: small[0]!.date });
    expect(paths(btcDay0)).toEqual(paths([...big, btc.merged]));
    for (const f of big) expect(btcDay0).toContainEqual(f);
    for (const f of small) expect(existsSync(f.path)).toBe(false);
    expect(paths(catalog.files({ table: "trades", symbol: "ETHUSDT" }))).toEqual(paths(eth));
    expect(paths(catalog.files({ table: "trades", symbol: "BTCUSDT", date: day1[0]!.date }))).toEqual(
      paths(day1),
    );
    const aggOut = out.find((o) => o.merged.table === "agg_trades")!;
    expect(paths(aggOut.replaced)).toEqual(paths(agg));
    expect(catalog.files({ table: "agg_trades", symbol: "BTCUSDT" })).toEqual([aggOut.merged]);

    // Every id exactly once on disk, as an independent reader of the Hive tree sees it.
    const trades = await idsOnDisk(dataDir, "trades");
    expect(trades.get("BTCUSDT")).toEqual([...span(1, 245), ...span(1000, 1019)]);
    expect(trades.get("ETHUSDT")).toEqual(span(1, 130));
    expect((await idsOnDisk(dataDir, "agg_trades")).get("BTCUSDT")).toEqual(span(1, 30));

    // A second pass finds one small file per partition at most: nothing more to do.
    const before = paths(catalog.all());
    expect(await compactSmallFiles(deps, POLICY)).toEqual([]);
    expect(paths(catalog.all())).toEqual(before);
  });

  test("minFiles is inclusive: two small files stay at minFiles 3 and merge at minFiles 2", async () => {
    const catalog = new Catalog();
    const two = [
      await writeIds(pool, catalog, "trades", "BTCUSDT", span(1, 5)),
      await writeIds(pool, catalog, "trades", "BTCUSDT", span(6, 10)),
    ];
    expect(await compactSmallFiles({ catalog, pool }, { minFiles: 3, smallerThanRows: 50 })).toEqual([]);
    expect(paths(catalog.all())).toEqual(paths(two));
    // With minFiles 2 the same two files are merged.
    const out = await compactSmallFiles({ catalog, pool }, { minFiles: 2, smallerThanRows: 50 });
    expect(out.length).toBe(1);
    expect(catalog.all()).toEqual([out[0]!.merged]);
    expect((await idsOnDisk(dataDir, "trades")).get("BTCUSDT")).toEqual(span(1, 10));
  });

  test("maxMergedRows: many small rows are merged in several bounded files, oldest first, every id once", async () => {
    const catalog = new Catalog();
    const files = await thirtyRowFiles(catalog, 10);
    const out = await compactSmallFiles(
      { catalog, pool },
      { minFiles: 3, smallerThanRows: 50, maxMergedRows: 100 },
    );
    // 3 files of 30 rows fit in 100, a fourth does not: three merges of 90 rows, one file left
    // (fewer than minFiles), instead of one merge holding all 300 rows in memory at once.
    expect(out.map((o) => o.merged.rows)).toEqual([90, 90, 90]);
    expect(out.map((o) => paths(o.replaced))).toEqual([
      paths(files.slice(0, 3)),
      paths(files.slice(3, 6)),
      paths(files.slice(6, 9)),
    ]);
    expect(paths(catalog.all())).toEqual(paths([...out.map((o) => o.merged), files[9]!]));
    expect((await idsOnDisk(dataDir, "trades")).get("BTCUSDT")).toEqual(span(1, 300));
  });
  test("a merged file that is still small is merged again only once newer files hold as many rows", async () => {
    const catalog = new Catalog();
    const policy = { minFiles: 3, smallerThanRows: 1_000, maxMergedRows: 2_000 };
    let next = 1;
    let minute = 0;
    /** Three one-second files of `rows` rows each, the next ids and times. */
    const three = async (rows: number) => {
      const out: FileInfo[] = [];
      for (let i = 0; i < 3; i++) {
        out.push(
          await writeIds(
            pool,
            catalog,
            "trades",
            "BTCUSDT",
            span(next, next + rows - 1),
            DAY0_US + minute++ * 60e6,
          ),
        );
        next += rows;
      }
      return out;
    };
    await three(10);
    const [a] = await compactSmallFiles({ catalog, pool }, policy);
    expect(a!.merged.rows).toBe(30);
    // 30 newer rows: as many as the merged file holds, so it is merged with them.
    const second = await three(10);
    const [b] = await compactSmallFiles({ catalog, pool }, policy);
    expect(paths(b!.replaced)).toEqual(paths([a!.merged, ...second]));
    // 15 newer rows are fewer than the 60 merged ones: only the new files are merged, the
    // 60-row file stays as it is (it was rewritten by every pass before).
    const third = await three(5);
    const out = await compactSmallFiles({ catalog, pool }, policy);
    expect(out.map((o) => paths(o.replaced))).toEqual([paths(third)]);
    expect(paths(catalog.all())).toEqual(paths([b!.merged, out[0]!.merged]));
    expect((await idsOnDisk(dataDir, "trades")).get("BTCUSDT")).toEqual(span(1, next - 1));

    // A steady stream of 10-row files, 3 per pass, 16 passes: each row is rewritten about
    // log2(passes) times, not once per pass while its merged file is still small.
    let rewritten = 0;
    const before = next;
    for (let pass = 0; pass < 16; pass++) {
      await three(10);
      for (const o of await compactSmallFiles({ catalog, pool }, policy)) rewritten += o.merged.rows;
    }
    const added = next - before;
    expect(rewritten).toBeLessThanOrEqual(6 * added);
    expect(catalog.all().length).toBeLessThanOrEqual(6);
    expect((await idsOnDisk(dataDir, "trades")).get("BTCUSDT")).toEqual(span(1, next - 1));
  });
});

describe("compactClosedPartitions", () => {
  test("a closed day is merged in bounded files (not all at once); today and full files stay", async () => {
    const catalog = new Catalog();
    const closed = await thirtyRowFiles(catalog, 7);
    // A file of half the bound or more is already merged enough: left alone.
    const full = await writeIds(pool, catalog, "trades", "BTCUSDT", span(211, 270), DAY0_US + 8 * 60e6);
    const today = [
      await writeIds(pool, catalog, "trades", "BTCUSDT", span(271, 280), DAY1_US + 1),
      await writeIds(pool, catalog, "trades", "BTCUSDT", span(281, 290), DAY1_US + 60e6),
    ];
    const out = await compactClosedPartitions({ catalog, pool }, DAY1_US + 120e6, 2, 100);
    // 30-row files, 100 at most per merge: 90 + 90, then the last 30-row file is alone.
    expect(out.map((o) => o.merged.rows)).toEqual([90, 90]);
    expect(out.map((o) => paths(o.replaced))).toEqual([paths(closed.slice(0, 3)), paths(closed.slice(3, 6))]);
    expect(paths(catalog.all())).toEqual(paths([...out.map((o) => o.merged), closed[6]!, full, ...today]));
    expect((await idsOnDisk(dataDir, "trades")).get("BTCUSDT")).toEqual(span(1, 290));
  });
});
