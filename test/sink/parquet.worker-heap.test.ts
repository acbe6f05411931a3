/** The writer worker has its own JS heap; the pool reports it (k2_memory_parquet_worker_heap_bytes). */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBatch, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { DAY0_US, tradeRows } from "./parquet.case.ts";

const dataDir = mkdtempSync(join(tmpdir(), "k2-worker-heap-"));
let pool: ParquetWriterPool | undefined;
afterAll(async () => {
  await pool?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the worker's heap is unknown (0) until its first job, then reported with each reply", async () => {
  pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
  expect(pool.workerHeapBytes).toBe(0);
  const count = 5_000;
  const rows = tradeRows(count, 0, 1, DAY0_US, 1_000);
  await pool.write(
    buildBatch(
      "trades",
      "BTCUSDT",
      0,
      rows,
      Array.from({ length: count }, (_, i) => i),
    ),
  );
  // A Bun worker's heap holds at least its loaded modules: well over a megabyte, under a gigabyte.
  expect(pool.workerHeapBytes).toBeGreaterThan(2 ** 20);
  expect(pool.workerHeapBytes).toBeLessThan(2 ** 30);
});
