import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tradeRows } from "../../test/sink/parquet.case.ts";
import {
  appendRange,
  createBatch,
  type FileInfo,
  nodeParquetFs,
  readStoredIds,
  writeJob,
} from "../sink/parquet/index.ts";
import { storedIdsNearDays } from "./stored.ts";

const DATE = "2025-01-02";
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One stored file of ids firstId..firstId+n-1, as K2's writer commits it. */
function land(dataDir: string, firstId: number, n: number, seq: number): FileInfo {
  const rows = tradeRows(n, 0, firstId, Date.parse(`${DATE}T01:00:00Z`) * 1000);
  const b = createBatch({ table: "trades", symbol: "BTCUSDT", symbolId: 0, day: DATE }, n);
  appendRange(b, rows, 0, n);
  return writeJob(
    nodeParquetFs,
    {
      dataDir,
      table: "trades",
      exchange: "BINANCE",
      symbol: "BTCUSDT",
      date: DATE,
      rows: n,
      columns: b.columns,
      writtenAtMs: 1,
      seq,
    },
    {},
  );
}

test("a file compacted away between the listing and its read: the days are listed again and every id is found", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-stored-"));
  dirs.push(dataDir);
  const a = land(dataDir, 1, 3, 1);
  const b = land(dataDir, 4, 3, 2);
  let compacted = false;
  // The first read of `a` finds it gone: a live K2's compaction merged a and b and deleted both.
  const read = async (path: string, column: string) => {
    if (path === a.path && !compacted) {
      compacted = true;
      land(dataDir, 1, 6, 3);
      rmSync(a.path);
      rmSync(b.path);
    }
    return readStoredIds(path, column);
  };
  const ids = await storedIdsNearDays(dataDir, "trades", "BTCUSDT", [DATE], read);
  expect(compacted).toBe(true);
  expect(ids.size).toBe(6);
  expect([1, 2, 3, 4, 5, 6].every((id) => ids.has(id))).toBe(true);
});

test("a file that keeps vanishing is an error after a few listings, not a loop", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-stored-"));
  dirs.push(dataDir);
  land(dataDir, 1, 3, 1);
  let reads = 0;
  const gone = async () => {
    reads++;
    throw Object.assign(new Error("ENOENT: gone"), { code: "ENOENT" });
  };
  await expect(storedIdsNearDays(dataDir, "trades", "BTCUSDT", [DATE], gone)).rejects.toThrow("ENOENT");
  expect(reads).toBe(3);
});
