/**
 * Catalog: rebuild from disk equals the incremental state, pruning, id ranges, compaction and
 * retention under a concurrent reader that must never see a missing or doubled row.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  applyRetention,
  Catalog,
  compactClosedPartitions,
  compactPartition,
  rebuildCatalog,
  scanPartition,
  visibleFilePaths,
} from "../../src/catalog/index.ts";
import {
  buildBatch,
  commitFile,
  type FileInfo,
  nodeParquetFs,
  type ParquetFs,
  ParquetSinkError,
  ParquetWriterPool,
  readStoredIds,
  tempNameOf,
  US_PER_DAY,
} from "../../src/sink/parquet/index.ts";
import { DAY0_US, tradeRows } from "./parquet.case.ts";

const root = join(tmpdir(), `k2-parquet-cat-${process.pid}`);
let pool: ParquetWriterPool;
let n = 0;

beforeAll(() => mkdirSync(root, { recursive: true }));
afterAll(async () => {
  await pool?.close();
  rmSync(root, { recursive: true, force: true });
});

async function fresh(): Promise<{ dataDir: string; catalog: Catalog }> {
  await pool?.close();
  const dataDir = join(root, `d${++n}`);
  pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
  return { dataDir, catalog: new Catalog() };
}

/** Write `count` trades with ids firstId… starting at t0, into the catalog. */
async function put(
  catalog: Catalog,
  symbol: string,
  firstId: number,
  count: number,
  t0: number,
): Promise<FileInfo> {
  const rows = tradeRows(count, 0, firstId, t0, 1_000);
  const info = await pool.write(
    buildBatch(
      "trades",
      symbol,
      0,
      rows,
      Array.from({ length: count }, (_, i) => i),
    ),
  );
  catalog.add(info);
  return info;
}

/**
 * Merge two trades files of one partition and commit the result, but neither swap it into a
 * catalog nor delete the sources: what a crash between the merge and the cleanup leaves.
 */
async function mergeLeftBehind(a: FileInfo, b: FileInfo): Promise<FileInfo> {
  const { info } = await pool.compact({
    table: "trades",
    symbol: a.symbol,
    date: a.date,
    sources: [a.path, b.path],
  });
  expect(readdirSync(dirname(a.path)).sort()).toEqual([a.name, b.name, info.name].sort());
  return info;
}

async function idsOf(files: readonly FileInfo[]): Promise<number[]> {
  const out: number[] = [];
  for (const f of files) for (const id of await readStoredIds(f.path, "trade_id")) out.push(Number(id));
  return out.sort((a, b) => a - b);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe("catalog state", () => {
  test("rebuild from disk equals the incremental state; pruning, coverage, ids", async () => {
    const { dataDir, catalog } = await fresh();
    const a = await put(catalog, "BTCUSDT", 100, 50, DAY0_US + 1_000_000); // day 0
    const b = await put(catalog, "BTCUSDT", 150, 50, DAY0_US + 60_000_000); // day 0, later
    const c = await put(catalog, "BTCUSDT", 300, 10, DAY0_US + US_PER_DAY + 5); // day 1, gap 200..299
    const d = await put(catalog, "ETHUSDT", 7, 5, DAY0_US + 10);
    // Noise the rebuild must skip or report, never crash on.
    writeFileSync(join(dirname(a.path), `.tmp-${a.name}`), "half written");
    writeFileSync(join(dirname(a.path), "0000000000000001-0000000000000002-0-0.parquet"), "garbage");
    mkdirSync(join(dataDir, "trades", "date=bogus", "symbol=BTCUSDT"), { recursive: true });

    const rebuilt = await rebuildCatalog(dataDir);
    expect(rebuilt.catalog.all()).toEqual(catalog.all());
    expect(rebuilt.problems.map((p) => p.kind).sort()).toEqual(["stray", "temp", "unreadable"]);

    expect(catalog.files({ table: "trades", symbol: "BTCUSDT" }).map((f) => f.name)).toEqual([
      a.name,
      b.name,
      c.name,
    ]);
    expect(
      catalog.files({
        table: "trades",
        symbol: "BTCUSDT",
        fromUs: DAY0_US + 60_000_000,
        toUs: DAY0_US + US_PER_DAY,
      }),
    ).toEqual([b]);
    expect(catalog.files({ table: "trades", symbol: "BTCUSDT", date: c.date })).toEqual([c]);
    expect(catalog.files({ table: "trades", symbol: "BTCUSDT", fromUs: DAY0_US + 2 * US_PER_DAY })).toEqual(
      [],
    );
    expect(catalog.files({ table: "quotes", symbol: "BTCUSDT" })).toEqual([]);
    expect(catalog.coverage("trades", "BTCUSDT")).toEqual({
      firstEventTimeUs: a.minEventTimeUs,
      lastEventTimeUs: c.maxEventTimeUs,
      rows: 110,
      files: 3,
      bytes: a.bytes + b.bytes + c.bytes,
    });
    expect(catalog.maxId("trades", "BTCUSDT")).toBe(309);
    expect(catalog.maxId("trades", "ETHUSDT")).toBe(d.maxId);
    expect(catalog.maxId("agg_trades", "BTCUSDT")).toBeUndefined();
    const has = (id: number) => catalog.hasId("trades", "BTCUSDT", id);
    expect([99, 100, 149, 150, 199, 200, 299, 300, 309, 310].map(has)).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
    expect(catalog.partitions().map((p) => `${p.date}/${p.symbol}:${p.files}`)).toEqual([
      `${a.date}/BTCUSDT:2`,
      `${a.date}/ETHUSDT:1`,
      `${c.date}/BTCUSDT:1`,
    ]);
  });

  test("rebuild honours k2.replaces after a crash between merge and delete", async () => {
    const { dataDir, catalog } = await fresh();
    const f1 = await put(catalog, "BTCUSDT", 1, 20, DAY0_US + 1);
    const f2 = await put(catalog, "BTCUSDT", 21, 20, DAY0_US + 100_000);
    const merged = await mergeLeftBehind(f1, f2);
    const r = await rebuildCatalog(dataDir, { removeSuperseded: true });
    expect(r.catalog.all()).toEqual([merged]);
    expect(r.superseded.sort()).toEqual([f1.path, f2.path].sort());
    expect(readdirSync(dirname(f1.path))).toEqual([merged.name]);
    expect(await idsOf([merged])).toEqual(range(1, 40));
  });
});

test("visibleFilePaths: one table, optionally one symbol, without the sources a merged file replaces", async () => {
  const { dataDir, catalog } = await fresh();
  const b1 = await put(catalog, "BTCUSDT", 1, 20, DAY0_US + 1);
  const b2 = await put(catalog, "BTCUSDT", 21, 20, DAY0_US + 100_000);
  const e1 = await put(catalog, "ETHUSDT", 1, 20, DAY0_US + 1);
  const sorted = (xs: string[]) => [...xs].sort();
  expect(sorted(await visibleFilePaths(dataDir, { table: "trades" }))).toEqual(
    sorted([b1.path, b2.path, e1.path]),
  );
  expect(sorted(await visibleFilePaths(dataDir, { table: "trades", symbol: "BTCUSDT" }))).toEqual(
    sorted([b1.path, b2.path]),
  );
  expect(await visibleFilePaths(dataDir, { table: "agg_trades" })).toEqual([]);
  expect(await visibleFilePaths(dataDir, { table: "trades", symbol: "SOLUSDT" })).toEqual([]);
  // Its sources still on disk, as a crash leaves them or a reader pinning them keeps them.
  const merged = await mergeLeftBehind(b1, b2);
  expect(await visibleFilePaths(dataDir, { table: "trades", symbol: "BTCUSDT" })).toEqual([merged.path]);
});

test("a repeated listing reads only new files: footers already read are reused by path", async () => {
  const { dataDir, catalog } = await fresh();
  const a = await put(catalog, "BTCUSDT", 100, 50, DAY0_US + 1_000_000);
  const first = await rebuildCatalog(dataDir);
  expect([...first.infos.keys()]).toEqual([a.path]);
  // A known entry is taken as it is (a marked copy shows it was not read again)...
  const known = new Map([[a.path, { ...a, rows: 4242 }]]);
  const b = await put(catalog, "BTCUSDT", 150, 50, DAY0_US + 60_000_000);
  const again = await rebuildCatalog(dataDir, { known });
  const rows = Object.fromEntries(again.catalog.all().map((f) => [f.name, f.rows]));
  // ...and only the new file's footer is read.
  expect(rows).toEqual({ [a.name]: 4242, [b.name]: 50 });
  expect([...again.infos.keys()].sort()).toEqual([a.path, b.path].sort());
});

describe("compaction", () => {
  test("merges a partition, drops duplicate ids, swaps atomically under concurrent readers", async () => {
    const { dataDir, catalog } = await fresh();
    const t0 = DAY0_US + 3_600_000_000;
    // 6 files, ids 1..600, with overlaps (a replayed batch wrote ids 250..349 twice).
    for (let i = 0; i < 6; i++) await put(catalog, "BTCUSDT", 1 + i * 100, 100, t0 + i * 100_000);
    await put(catalog, "BTCUSDT", 250, 100, t0 + 150_000);
    const expected = range(1, 600);
    const date = catalog.files({ table: "trades", symbol: "BTCUSDT" })[0]!.date;
    const key = { table: "trades", symbol: "BTCUSDT", date } as const;

    let compactionDone = false;
    let catalogReads = 0;
    let listingReads = 0;
    const seen = new Set<string>(); // which states the readers observed: "catalog:7", "listing:1", …
    let firstListing!: () => void;
    const listed = new Promise<void>((r) => {
      firstListing = r;
    });
    const catalogReader = async () => {
      // Bounded: stops a few rounds after compaction ends, or at 400 rounds.
      for (let i = 0, after = 0; i < 400 && after < 3; i++) {
        if (compactionDone) after++;
        const snap = catalog.snapshot({ table: "trades", symbol: "BTCUSDT" });
        try {
          const ids = await idsOf(snap.files);
          expect(new Set(ids).size).toBe(expected.length); // never missing
          expect(ids.length - new Set(ids).size).toBe(snap.files.length > 1 ? 100 : 0); // doubles only the known replay
          seen.add(`catalog:${snap.files.length}`);
        } finally {
          snap.release();
        }
        catalogReads++;
      }
    };
    const listingReader = async () => {
      for (let i = 0, after = 0; i < 400 && after < 3; i++) {
        if (compactionDone) after++;
        const scan = await scanPartition(dataDir, key);
        // A `.tmp-` file is the compaction being written: expected. Anything else scanPartition
        // reports (a visible file whose footer does not parse, a mismatch) is a torn commit.
        expect(scan.problems.filter((p) => p.kind !== "temp")).toEqual([]);
        let ids: number[];
        try {
          ids = await idsOf(scan.visible);
        } catch (err) {
          // The one expected race: compaction deleted a listed file before we read it (ENOENT).
          // Any other read error (truncated, corrupt) is a partial file a reader could see.
          if (err instanceof ParquetSinkError && err.kind === "missing") continue;
          throw err;
        }
        expect(new Set(ids).size).toBe(expected.length);
        expect(ids.length - new Set(ids).size).toBe(scan.visible.length > 1 ? 100 : 0);
        seen.add(`listing:${scan.visible.length}`);
        listingReads++;
        firstListing();
      }
    };
    const readers = Promise.all([catalogReader(), listingReader()]);
    // Both readers have seen the old state before compaction starts. Racing `readers` too: a reader
    // that fails early ends the wait (no hang until the timeout) and its rejection has a handler
    // while compaction runs (else Bun reports it a second time, "between tests").
    await Promise.race([listed, readers]);
    const out = await compactPartition({ catalog, pool, pinTimeoutMs: 5_000 }, key);
    compactionDone = true;
    await readers;

    expect(out).not.toBeNull();
    expect(out!.duplicatesDropped).toBe(100);
    expect(out!.replaced.length).toBe(7);
    expect(out!.merged.rows).toBe(600);
    expect(catalogReads).toBeGreaterThan(2);
    expect(listingReads).toBeGreaterThan(2);
    // Both readers ran across the swap: they saw the 7 old files and the merged one, nothing else.
    expect([...seen].sort()).toEqual(["catalog:1", "catalog:7", "listing:1", "listing:7"]);
    expect(catalog.files({ table: "trades", symbol: "BTCUSDT" })).toEqual([out!.merged]);
    expect(catalog.retiredCount).toBe(0);
    expect(readdirSync(dirname(out!.merged.path))).toEqual([out!.merged.name]);
    const ids = await readStoredIds(out!.merged.path, "trade_id");
    expect(Array.from(ids, Number)).toEqual(expected); // deduplicated and sorted by id
    expect((await rebuildCatalog(dataDir)).catalog.all()).toEqual(catalog.all());
  });

  test("a pinned snapshot keeps old files until released; closed-partition policy skips today", async () => {
    const { catalog } = await fresh();
    const nowUs = DAY0_US + US_PER_DAY + 1_000; // "today" is day 1
    await put(catalog, "BTCUSDT", 1, 10, DAY0_US + 1);
    await put(catalog, "BTCUSDT", 11, 10, DAY0_US + 50_000);
    await put(catalog, "BTCUSDT", 21, 10, DAY0_US + US_PER_DAY + 1); // today
    await put(catalog, "BTCUSDT", 31, 10, DAY0_US + US_PER_DAY + 50_000); // today
    const snap = catalog.snapshot({ table: "trades", symbol: "BTCUSDT" });
    const res = await compactClosedPartitions({ catalog, pool, pinTimeoutMs: 50 }, nowUs);
    expect(res.length).toBe(1);
    expect(res[0]!.deleted).toBe(0); // pinned: nothing deleted yet
    expect(await idsOf(snap.files)).toEqual(range(1, 40)); // the old snapshot still reads
    snap.release();
    expect(catalog.deletable().length).toBe(2);
    // Readers in other processes (query nodes) get a grace period: not yet after 60 s of it.
    expect(catalog.deletable(60_000).length).toBe(0);
    expect(catalog.deletable(60_000, performance.now() + 60_000).length).toBe(2);
    const { deleteRetired } = await import("../../src/catalog/index.ts");
    expect(await deleteRetired(catalog, 60_000)).toBe(0);
    const forgotten: string[] = [];
    catalog.onForget((paths) => forgotten.push(...paths));
    const retired = catalog.deletable();
    expect(await deleteRetired(catalog)).toBe(2);
    expect(forgotten.sort()).toEqual([...retired].sort()); // listeners hear exactly the deleted files
    expect(catalog.files({ table: "trades", symbol: "BTCUSDT" }).length).toBe(3);
    expect(await idsOf(catalog.files({ table: "trades", symbol: "BTCUSDT" }))).toEqual(range(1, 40));
  });
});

describe("retention", () => {
  test("off by default; drops whole old partitions; a reader sees a partition entirely or not at all", async () => {
    const { dataDir, catalog } = await fresh();
    for (let day = 0; day < 4; day++) {
      for (let k = 0; k < 3; k++)
        await put(catalog, "BTCUSDT", 1 + day * 1000 + k * 10, 10, DAY0_US + day * US_PER_DAY + k * 20_000);
    }
    const nowUs = DAY0_US + 3 * US_PER_DAY + 5; // today = day 3
    expect(await applyRetention({ catalog, dataDir, keepDays: undefined, nowUs })).toEqual({
      partitions: 0,
      files: 0,
      rows: 0,
      deleted: 0,
    });
    expect(catalog.size).toBe(12);

    let done = false;
    let reads = 0;
    const states = new Set<number>();
    const reader = (async () => {
      for (let i = 0, after = 0; i < 400 && after < 3; i++) {
        if (done) after++;
        const snap = catalog.snapshot({ table: "trades", symbol: "BTCUSDT" });
        try {
          const ids = await idsOf(snap.files);
          const perDay = [0, 1, 2, 3].map((d) => ids.filter((x) => Math.floor(x / 1000) === d).length);
          for (const c of perDay) expect([0, 30]).toContain(c); // whole partition or none
          expect(perDay[2]! + perDay[3]!).toBe(60); // kept days never flicker
          states.add(snap.files.length);
        } finally {
          snap.release();
        }
        reads++;
      }
    })();
    const out = await applyRetention({ catalog, dataDir, keepDays: 1, nowUs, pinTimeoutMs: 5_000 });
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(2);
    expect([...states].sort()).toEqual([12, 6]);
    expect(out).toEqual({ partitions: 2, files: 6, rows: 60, deleted: 6 });
    expect(catalog.partitions().map((p) => p.date)).toEqual(["2023-11-16", "2023-11-17"]);
    expect(readdirSync(join(dataDir, "trades")).sort()).toEqual(["date=2023-11-16", "date=2023-11-17"]);
    expect((await rebuildCatalog(dataDir)).catalog.all()).toEqual(catalog.all());
    expect(basename(dataDir)).toMatch(/^d\d+$/);
  });
});

describe("the folder as other tools read it", () => {
  test("the README's DuckDB glob never reads a file being written; the writer writes under that name", async () => {
    const { dataDir, catalog } = await fresh();
    const a = await put(catalog, "BTCUSDT", 100, 50, DAY0_US + 1_000_000);
    // The worst case of a file being written: complete bytes, not yet renamed into place.
    copyFileSync(a.path, join(dirname(a.path), tempNameOf(a.name)));
    const db = await DuckDBInstance.create(":memory:", { threads: "1" });
    const conn = await db.connect();
    try {
      for (const glob of ["trades/*/*/*.parquet", "**/*.parquet"]) {
        const r = await conn.runAndReadAll(
          `SELECT count(*) AS n, count(DISTINCT trade_id) AS d FROM read_parquet('${join(dataDir, glob)}', hive_partitioning = true)`,
        );
        const row = r.getRowObjectsJS()[0] as { n: bigint; d: bigint };
        expect({ glob, n: row.n, d: row.d }).toEqual({ glob, n: 50n, d: 50n });
      }
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    const created: string[] = [];
    const recording: ParquetFs = {
      ...nodeParquetFs,
      createExclusive: (path) => {
        created.push(path);
        return nodeParquetFs.createExclusive(path);
      },
    };
    const dir = join(dataDir, "probe");
    commitFile(recording, dir, "x.parquet", new Uint8Array([1, 2, 3]));
    expect(created).toEqual([join(dir, tempNameOf("x.parquet"))]);
    expect(readdirSync(dir)).toEqual(["x.parquet"]);
  });
});
