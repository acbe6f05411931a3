/**
 * BackfillAdopter as a scale-out writer uses it: only the partitions of the symbols it owns, and
 * nothing journaled before the offset its catalog scan already covered. Real Parquet files named
 * as `k2 backfill` names them, a real journal.
 */
import { afterEach, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tradeRows } from "../../test/sink/parquet.case.ts";
import { appendRange, createBatch, type FileInfo, nodeParquetFs, writeJob } from "../sink/parquet/index.ts";
import {
  BACKFILL_DIR,
  BACKFILL_JOURNAL,
  BACKFILL_WRITER,
  BackfillAdopter,
  backfillJournalSize,
} from "./adopt.ts";
import { Catalog } from "./catalog.ts";

const DATE = "2025-01-02";
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One backfill file of `symbol` on `date`, then its journal line (as the backfill does). */
function land(dataDir: string, symbol: string, firstId: number, date = DATE): FileInfo {
  const rows = tradeRows(3, 0, firstId, Date.parse(`${date}T01:00:00Z`) * 1000);
  const b = createBatch({ table: "trades", symbol, symbolId: 0, day: date }, 3);
  appendRange(b, rows, 0, 3);
  const info = writeJob(
    nodeParquetFs,
    {
      dataDir,
      table: "trades",
      exchange: "BINANCE",
      symbol,
      date,
      rows: 3,
      columns: b.columns,
      writtenAtMs: 1,
      seq: firstId,
      writer: BACKFILL_WRITER,
    },
    {},
  );
  mkdirSync(join(dataDir, BACKFILL_DIR), { recursive: true });
  appendFileSync(
    join(dataDir, BACKFILL_DIR, BACKFILL_JOURNAL),
    `${JSON.stringify({ table: "trades", symbol, date })}\n`,
  );
  return info;
}

test("a writer's adopter takes only its symbols, and only what was journaled after its scan", async () => {
  const dir = mkdtempSync(join(tmpdir(), "k2-adopt-"));
  dirs.push(dir);
  // Landed before the writer's start (its catalog scan's business, left out of this catalog so
  // that listing its partition again would show).
  land(dir, "BTCUSDT", 1, "2025-01-05");
  const start = backfillJournalSize(dir);
  expect(start).toBeGreaterThan(0);
  const catalog = new Catalog();
  const adopter = new BackfillAdopter(catalog, dir, (s) => s === "BTCUSDT", start);
  land(dir, "BTCUSDT", 10);
  land(dir, "ETHUSDT", 20); // another shard's symbol
  const added = await adopter.pass();
  expect(added.map((f) => [f.symbol, f.minId, f.maxId])).toEqual([["BTCUSDT", 10, 12]]);
  expect(catalog.all().map((f) => f.minId)).toEqual([10]);
  expect(await adopter.pass()).toEqual([]); // nothing new journaled
});
