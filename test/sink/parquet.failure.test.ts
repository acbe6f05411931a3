/**
 * Write failures: each fs step failing (injected at the ParquetFs boundary, in-process and
 * inside the worker) and a non-writable folder (for root too: a read-only mount) give a typed
 * error, leave no visible or temp file, and leave the batch reusable. Faults then clear and the
 * same batch writes fine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildBatch,
  commitFile,
  type FsOp,
  faultyFs,
  nodeParquetFs,
  ParquetSinkError,
  ParquetWriterPool,
  type TableBatch,
} from "../../src/sink/parquet/index.ts";
import { DAY0_US, tradeRows } from "./parquet.case.ts";

const root = join(tmpdir(), `k2-parquet-fail-${process.pid}`);
beforeAll(() => mkdirSync(root, { recursive: true }));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under dir, recursively (dot-files included). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function batch(n = 500, firstId = 1_000): TableBatch {
  const rows = tradeRows(n, 0, firstId, DAY0_US + 1_000_000);
  return buildBatch(
    "trades",
    "BTCUSDT",
    0,
    rows,
    Array.from({ length: n }, (_, i) => i),
  );
}

const STEPS: { op: FsOp; code: string; kind: string; retryable: boolean; step: string }[] = [
  { op: "mkdirp", code: "EACCES", kind: "permission", retryable: false, step: "mkdir" },
  { op: "createExclusive", code: "EACCES", kind: "permission", retryable: false, step: "open" },
  { op: "write", code: "ENOSPC", kind: "no_space", retryable: true, step: "write" },
  { op: "fsync", code: "EIO", kind: "io", retryable: true, step: "fsync" },
  { op: "rename", code: "EIO", kind: "io", retryable: true, step: "rename" },
  // After the rename: the visible file must be taken back, or a retry would duplicate it.
  { op: "fsyncDir", code: "EIO", kind: "io", retryable: true, step: "fsync_dir" },
];

describe("commitFile with an injected fault at each fs step", () => {
  for (const s of STEPS) {
    test(`${s.op} ${s.code} → ${s.kind}, nothing left behind`, () => {
      const dir = join(root, `commit-${s.op}`, "table", "date=2023-11-14", "symbol=BTCUSDT");
      // fsyncDir also runs for new folders before the write: fail only the last (post-rename) call.
      const after = s.op === "fsyncDir" ? 5 : 0;
      const fs = faultyFs(nodeParquetFs, [{ op: s.op, code: s.code, after, times: 1 }]);
      let err: unknown;
      try {
        commitFile(fs, dir, "a.parquet", new Uint8Array(4096).fill(7));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParquetSinkError);
      const e = err as ParquetSinkError;
      expect([e.kind, e.retryable, e.op, e.code]).toEqual([s.kind, s.retryable, s.step, s.code]);
      expect(tree(join(root, `commit-${s.op}`))).toEqual([]);
    });
  }

  test("a short write loop completes the file", () => {
    const dir = join(root, "short");
    const shortFs = {
      ...nodeParquetFs,
      write: (fd: number, b: Uint8Array, o: number, l: number) =>
        nodeParquetFs.write(fd, b, o, Math.min(l, 1000)),
    };
    const path = commitFile(shortFs, dir, "b.parquet", new Uint8Array(4500).fill(3));
    expect(tree(dir)).toEqual([path]);
    expect(Bun.file(path).size).toBe(4500);
  });
});

describe("pool: typed errors from the worker", () => {
  let pool: ParquetWriterPool;
  const dataDir = join(root, "pool");
  beforeAll(async () => {
    pool = await ParquetWriterPool.start({ dataDir, workers: 1, maxInFlight: 2 });
  });
  afterAll(() => pool.close());

  test("ENOSPC on write inside the worker: typed, retryable, no file; cleared → same batch writes", async () => {
    await pool.setFaults([{ op: "write", code: "ENOSPC" }]);
    const b = batch();
    const err = await pool.write(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetSinkError);
    expect((err as ParquetSinkError).kind).toBe("no_space");
    expect((err as ParquetSinkError).retryable).toBe(true);
    expect(tree(dataDir)).toEqual([]);
    // The buffers came back: the batch is usable (the batcher refills it from its WAL/ring).
    expect(b.writing).toBe(false);
    expect(b.columns.id.length).toBe(b.capacity);
    await pool.setFaults([]);
    const info = await pool.write(batch());
    expect(tree(dataDir)).toEqual([info.path]);
  });

  test("EIO on the folder fsync after rename: no visible file", async () => {
    await pool.setFaults([{ op: "fsyncDir", code: "EIO", after: 0 }]);
    const before = tree(dataDir);
    const err = (await pool.write(batch(10, 50_000)).catch((e: unknown) => e)) as ParquetSinkError;
    expect(err.kind).toBe("io");
    expect(tree(dataDir)).toEqual(before);
    await pool.setFaults([]);
  });

  test("invalid batches are refused with invalid_batch", async () => {
    const b = batch(5);
    b.columns.event_time_us[4] = DAY0_US - 1; // previous day: appendRow would refuse it; a bug here must not write
    const err = (await pool.write(b).catch((e: unknown) => e)) as ParquetSinkError;
    expect([err.kind, err.retryable]).toEqual(["invalid_batch", false]);
    const empty = batch(3);
    empty.rows = 0;
    expect(((await pool.write(empty).catch((e: unknown) => e)) as ParquetSinkError).kind).toBe(
      "invalid_batch",
    );
  });

  test("over maxInFlight → queue_full (counted), not an unbounded queue", async () => {
    const writes = [pool.write(batch(100, 70_000)), pool.write(batch(100, 80_000))];
    const third = (await pool.write(batch(100, 90_000)).catch((e: unknown) => e)) as ParquetSinkError;
    expect([third.kind, third.retryable]).toEqual(["queue_full", true]);
    expect(pool.refused).toBe(1);
    expect((await Promise.all(writes)).length).toBe(2);
  });
});

/**
 * A folder this process cannot write, and the errno a write there gets. A normal user: chmod 0500
 * (EACCES). Root ignores folder modes, and CI and these machines run as root, so there a
 * read-only tmpfs is mounted on the folder: it refuses writes even to root (EROFS). A root that
 * cannot mount fails here rather than skip, so the result never depends on who runs it.
 */
function readOnlyFolder(dir: string): { code: string; undo: () => void } {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    return { code: "EACCES", undo: () => chmodSync(dir, 0o700) };
  }
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir], { encoding: "utf8" });
  if (m.status !== 0)
    throw new Error(`as root this test mounts a read-only tmpfs on ${dir}: ${m.stderr.trim() || m.error}`);
  return {
    code: "EROFS",
    undo: () => {
      const u = spawnSync("umount", [dir], { encoding: "utf8" });
      if (u.status !== 0) throw new Error(`umount ${dir}: ${u.stderr.trim() || u.error}`);
    },
  };
}

test("non-writable data folder → permission error, nothing written", async () => {
  const dataDir = join(root, "readonly");
  const ro = readOnlyFolder(dataDir);
  try {
    const pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
    try {
      const err = (await pool.write(batch()).catch((e: unknown) => e)) as ParquetSinkError;
      expect(err).toBeInstanceOf(ParquetSinkError);
      expect([err.kind, err.retryable, err.code]).toEqual(["permission", false, ro.code]);
      expect(tree(dataDir)).toEqual([]);
    } finally {
      await pool.close();
    }
  } finally {
    ro.undo();
  }
  expect(tree(dataDir)).toEqual([]); // as root: nothing went around the mount either
});

test("data folder path blocked by a regular file → typed error; after close → closed", async () => {
  // Root ignores folder permissions, so also cover an unwritable path that root cannot bypass.
  const blocker = join(root, "blocker");
  await Bun.write(blocker, "not a folder");
  const pool = await ParquetWriterPool.start({ dataDir: join(blocker, "data"), workers: 1 });
  try {
    const err = (await pool.write(batch()).catch((e: unknown) => e)) as ParquetSinkError;
    expect(err).toBeInstanceOf(ParquetSinkError);
    expect([err.op, err.code]).toEqual(["mkdir", "ENOTDIR"]);
    expect(await Bun.file(blocker).text()).toBe("not a folder");
  } finally {
    await pool.close();
  }
  const closed = (await pool.write(batch()).catch((e: unknown) => e)) as ParquetSinkError;
  expect(closed.kind).toBe("closed");
});
