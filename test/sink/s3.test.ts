/**
 * The object store against a real S3 server on loopback (s3rver under Node): the Hive layout in
 * the bucket, a fresh machine recovering the data set, an outage that holds writes open without
 * losing them, compaction and retirement reaching the bucket, and clear start-up errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Catalog, compactPartition, deleteRetired, rebuildCatalog } from "../../src/catalog/index.ts";
import { loadConfig } from "../../src/config/index.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { Table } from "../../src/model/tables.ts";
import { createLogger } from "../../src/obs/index.ts";
import { openStorage } from "../../src/pipeline/storage.ts";
import { Ring } from "../../src/ring/ring.ts";
import { buildBatch, decodeParquet, type FileInfo, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import {
  atStartup,
  ObjectMirror,
  type ObjectStoreError,
  pullMissing,
  reconcile,
} from "../../src/sink/s3/index.ts";
import { S3RVER_CREDENTIALS, S3rverHarness } from "../support/s3rver.ts";
import { waitUntil } from "../support/wait.ts";
import { DAY0_US, type ExpectedRow, expectedRows, sharedTableRows, tradeRows } from "./parquet.case.ts";

const s3 = new S3rverHarness("k2-test");
const roots: string[] = [];
let n = 0;

beforeAll(async () => {
  await s3.start();
});
afterAll(async () => {
  await s3.dispose();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function localDir(): string {
  const d = mkdtempSync(join(tmpdir(), "k2-s3-local-"));
  roots.push(d);
  return d;
}

/** A folder that lives for one test only (the resource guard checks each test). */
async function withLocalDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const d = mkdtempSync(join(tmpdir(), "k2-s3-local-"));
  try {
    return await fn(d);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

function mirrorOf(dataDir: string, prefix: string, opts: { bucket?: string } = {}) {
  const errors: ObjectStoreError[] = [];
  const mirror = new ObjectMirror({
    store: {
      bucket: opts.bucket ?? s3.bucket,
      prefix,
      endpoint: s3.endpoint,
      region: "us-east-1",
      credentials: S3RVER_CREDENTIALS,
    },
    dataDir,
    retryBaseMs: 50,
    retryMaxMs: 400,
    attemptTimeoutMs: 5_000,
    onError: (e) => errors.push(e),
  });
  return { mirror, errors };
}

/** Write `count` trades of `symbol` from id `firstId` at t0 through the real writer pool. */
async function write(pool: ParquetWriterPool, symbol: string, firstId: number, count: number, t0: number) {
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
  return { info, expected: expectedRows("trades", symbol, rows, count) };
}

const rel = (dataDir: string, f: FileInfo) => relative(dataDir, f.path).split("\\").join("/");
const withoutPath = (f: FileInfo) => ({ ...f, path: "" });

/** Poll a condition that has no event to await; bounded, and the error names what was awaited. */

/**
 * "At once" without a wall clock: true when `p` settles from work already queued (promise
 * reactions), before any timer can run, however slow the machine. A request left waiting on the
 * store, or a retry sleep, cannot settle that way.
 */
function settlesBeforeAnyTimer(p: Promise<unknown>): Promise<boolean> {
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    Bun.sleep(0).then(() => false),
  ]);
}

describe("object store mirror (s3rver on loopback)", () => {
  const prefix = `p${++n}/k2`;
  const dataDir = localDir();
  const catalog = new Catalog();
  let written: { info: FileInfo; expected: ExpectedRow[] }[] = [];

  test("uploaded files sit under the same Hive keys and read back to the rows written", async () => {
    const pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
    const { mirror, errors } = mirrorOf(dataDir, prefix);
    try {
      written = [
        await write(pool, "BTCUSDT", 100, 40, DAY0_US + 1_000_000),
        await write(pool, "BTCUSDT", 140, 25, DAY0_US + 90_000_000),
        await write(pool, "ETHUSDT", 7, 10, DAY0_US + 86_400_000_000 + 5), // next day
      ];
      for (const w of written) {
        catalog.add(w.info);
        expect(await mirror.upload(w.info)).toBe(true);
      }
    } finally {
      await pool.close();
    }
    const keys = await s3.keys(`${prefix}/`);
    expect([...keys.keys()].sort()).toEqual(written.map((w) => `${prefix}/${rel(dataDir, w.info)}`).sort());
    const client = s3.client();
    for (const w of written) {
      const key = `${prefix}/${rel(dataDir, w.info)}`;
      expect(key).toMatch(/\/trades\/date=\d{4}-\d{2}-\d{2}\/symbol=[A-Z]+\/\d{16}-\d{16}-\d+-\d+\.parquet$/);
      const bytes = new Uint8Array(await client.file(key).arrayBuffer());
      expect(bytes).toEqual(new Uint8Array(readFileSync(w.info.path)));
      const { columns, numRows } = await decodeParquet(key, bytes);
      const rows = Array.from({ length: numRows }, (_, i) =>
        Object.fromEntries(Object.entries(columns).map(([c, v]) => [c, v[i]])),
      );
      expect(rows).toEqual(w.expected);
    }
    expect(errors).toEqual([]);
  });

  test("a fresh machine downloads everything: its rebuilt catalog equals the original", async () => {
    await withLocalDir((fresh) => freshMachine(fresh));
  });
  const freshMachine = async (fresh: string) => {
    const { mirror } = mirrorOf(fresh, prefix);
    const pulled = await pullMissing(mirror);
    expect(pulled).toEqual({ listed: 3, downloaded: 3 });
    const rebuilt = await rebuildCatalog(fresh);
    expect(rebuilt.problems).toEqual([]);
    expect(rebuilt.catalog.all().map(withoutPath)).toEqual(catalog.all().map(withoutPath));
    expect(rebuilt.catalog.all().map((f) => rel(fresh, f))).toEqual(
      catalog.all().map((f) => rel(dataDir, f)),
    );
    // Nothing left to do: a second pull downloads nothing, a reconcile changes nothing.
    expect((await pullMissing(mirror)).downloaded).toBe(0);
    expect(await reconcile(mirror, rebuilt.catalog)).toMatchObject({ uploaded: 0, deleted: 0 });
  };

  test("compaction then reconcile: the bucket holds the merged object, not the ones it replaced", async () => {
    const pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
    const { mirror } = mirrorOf(dataDir, prefix);
    try {
      await pullMissing(mirror); // start-up: the listed objects become this process's own
      const btc = catalog.files({ table: "trades", symbol: "BTCUSDT" });
      expect(btc).toHaveLength(2);
      // A reader pins one source: it stays on disk, so its object must stay too for now.
      const release = catalog.pin([btc[0]!.path]);
      const out = await compactPartition({ catalog, pool, pinTimeoutMs: 50 }, btc[0]!, { minFiles: 2 });
      expect(out?.replaced).toHaveLength(2);
      const merged = out!.merged;
      const first = await reconcile(mirror, catalog);
      expect(first).toMatchObject({ uploaded: 1, uploadFailed: 0, deleted: 1 });
      let keys = [...(await s3.keys(`${prefix}/`)).keys()];
      expect(keys).toContain(`${prefix}/${rel(dataDir, merged)}`);
      expect(keys).toContain(`${prefix}/${rel(dataDir, btc[0]!)}`);
      expect(keys).not.toContain(`${prefix}/${rel(dataDir, btc[1]!)}`);
      release();
      expect(await deleteRetired(catalog)).toBe(1);
      expect(await reconcile(mirror, catalog)).toMatchObject({ uploaded: 0, deleted: 1 });
      keys = [...(await s3.keys(`${prefix}/`)).keys()];
      expect(keys.sort()).toEqual(
        catalog
          .all()
          .map((f) => `${prefix}/${rel(dataDir, f)}`)
          .sort(),
      );
    } finally {
      await pool.close();
    }
  });

  test("objects that are not K2's own are never downloaded or deleted", async () => {
    const client = s3.client();
    const foreign = [`${prefix}/README.txt`, `${prefix}/trades/date=2023-11-14/symbol=BTCUSDT/notes.csv`];
    for (const k of foreign) await client.write(k, "not parquet");
    // A K2-shaped key written by another writer after this mirror listed the bucket.
    const { mirror } = mirrorOf(dataDir, prefix);
    await pullMissing(mirror);
    const late = `${prefix}/trades/date=2023-11-14/symbol=BTCUSDT/0000000000000001-0000000000000002-0000000000001-000001.parquet`;
    await client.write(late, "another writer's file");
    const r = await reconcile(mirror, catalog);
    expect(r.deleted).toBe(0);
    const keys = await s3.keys(`${prefix}/`);
    for (const k of [...foreign, late]) expect(keys.has(k)).toBe(true);
    for (const k of [...foreign, late]) await client.delete(k);
  });

  test("a missing bucket stops start-up at once with a clear message", async () => {
    let attempts = 0;
    const err = await withLocalDir((dir) => {
      const { mirror } = mirrorOf(dir, "x", { bucket: "no-such-bucket" });
      // A 5 s budget (not STARTUP_TIMEOUT_MS) so a start-up that wrongly retried fails below
      // on `attempts` rather than on the test's timeout.
      const step = () => {
        attempts++;
        return pullMissing(mirror);
      };
      return atStartup(mirror, "download", step, 5_000).catch((e: Error) => e);
    });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("s3://no-such-bucket/x");
    expect((err as Error).message).toContain("NoSuchBucket");
    // Not retryable: one attempt, so no waiting out STARTUP_TIMEOUT_MS between retries.
    expect(attempts).toBe(1);
  });
});

describe("the write path with the store down (openStorage, real wiring)", () => {
  test("the write stays pending while the store is down and completes when it is back", async () => {
    // Its own server, stopped and restarted on the same port and folder within this test.
    const own = new S3rverHarness("k2-outage");
    await own.start();
    try {
      await withLocalDir((dir) => outage(own, dir));
    } finally {
      await own.dispose();
    }
  }, 20_000);
});

async function outage(own: S3rverHarness, dir: string): Promise<void> {
  const prefix = "outage";
  const r = loadConfig([], { ...own.env(prefix), K2_LOCAL_DIR: dir, K2_SYMBOLS: "BTCUSDT" });
  if (r.kind !== "config") throw new Error("config expected");
  const config = r.config;
  const symbols = new SymbolTable(config.symbols);
  const ring = new Ring(1024);
  const storage = await openStorage(
    config,
    createLogger("silent"),
    symbols,
    ring,
    new Float64Array(ring.capacity),
  );
  const mirror = storage.mirror!;
  try {
    await own.stop();
    const t0 = DAY0_US + 3_000_000;
    const batch = {
      key: 1,
      kind: Table.trades,
      symbolId: symbols.id("BTCUSDT")!,
      day: Math.floor(t0 / 86_400_000_000),
      // As the batcher holds them: the table's slots, in shared memory (the writer reads them in place).
      rows: sharedTableRows("trades", tradeRows(20, 0, 500, t0, 1_000), 20),
      count: 20,
      minWalSeq: 1,
      openedAtMs: 0,
      failures: 0,
    };
    let settled = false;
    const write = storage.batcher.writer.write(batch).finally(() => {
      settled = true;
    });
    // Until the upload has failed twice (so it retried and is still at it), not a fixed sleep.
    await waitUntil(() => mirror.uploadFailures >= 2, 10_000, "two failed uploads while the store is down");
    // Queryable at once (in the catalog), but not acknowledged: the WAL must keep the rows.
    expect(settled).toBe(false);
    expect(storage.catalog.size).toBe(1);
    expect(mirror.pending).toBe(1);
    expect(mirror.failing?.error.kind).toBe("unreachable");
    await own.start(); // same port, same folder
    await Promise.race([write, Bun.sleep(10_000)]);
    expect(settled).toBe(true);
    expect(mirror.failing).toBeUndefined();
    const keys = await own.keys(`${prefix}/`);
    const f = storage.catalog.all()[0]!;
    expect(keys.get(`${prefix}/${rel(dir, f)}`)).toBe(f.bytes);
  } finally {
    mirror.stop();
    await storage.wal.close();
    storage.dlq.close();
    await storage.pool.close();
  }
}

describe("a store that accepts and never answers", () => {
  test("stopBackground ends a reconcile pass, stop() ends a pending upload, both at once", async () => {
    // A loopback listener that takes requests and never replies (a black-holed store).
    const requests: string[] = [];
    const hole = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(_socket, chunk) {
          const line = /^(GET|PUT) \S+/.exec(chunk.toString("latin1"));
          if (line) requests.push(line[1]!);
        },
      },
    });
    try {
      await withLocalDir(async (dir) => {
        const pool = await ParquetWriterPool.start({ dataDir: dir, workers: 1 });
        try {
          const { info } = await write(pool, "BTCUSDT", 1, 5, DAY0_US + 1_000);
          const catalog = new Catalog();
          catalog.add(info);
          const mirror = new ObjectMirror({
            store: {
              bucket: "k2-test",
              prefix: "hole",
              endpoint: `http://127.0.0.1:${hole.port}`,
              region: "us-east-1",
              credentials: S3RVER_CREDENTIALS,
            },
            dataDir: dir,
          });
          const pass = reconcile(mirror, catalog).catch((e: ObjectStoreError) => e);
          const upload = mirror.upload(info);
          // Both requests have reached the store and wait for an answer that never comes: the
          // pass's listing (GET) and the upload (PUT).
          await waitUntil(
            () => requests.includes("GET") && requests.includes("PUT"),
            10_000,
            "the listing and the upload to reach the store",
          );
          // Each stop ends its requests at once: before any timer runs, so neither waits out the
          // attempt timeout (120 s default) nor a retry sleep.
          mirror.stopBackground();
          expect(await settlesBeforeAnyTimer(pass)).toBe(true);
          expect(((await pass) as ObjectStoreError).kind).toBe("stopped");
          expect(mirror.pending).toBe(1); // the write path is still waiting
          mirror.stop();
          expect(await settlesBeforeAnyTimer(upload)).toBe(true);
          expect(await upload).toBe(false);
          expect(mirror.pending).toBe(0);
        } finally {
          await pool.close();
        }
      });
    } finally {
      hole.stop(true);
    }
  });
});
