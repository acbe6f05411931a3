/**
 * KlineReconciler's shortfall path with a repairer, on real Parquet read by DuckDB and a clock the
 * test moves: a writer waits `repairAfterUs` before it repairs (the recorders' own repairs first),
 * and rows a repair fetched are waited for until they are in a file (they go through the ring or
 * the bus first) — before, a minute checked in between was a mismatch. A count no missing id
 * explains is still a mismatch at once.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import pino from "pino";
import { GapLedger } from "../ingest/gap-ledger.ts";
import type { GapEntry } from "../model/gaps.ts";
import { allocKlineColumns } from "../model/kline.ts";
import { SymbolTable } from "../model/symbols.ts";
import { DEFAULT_DUCK_OPTIONS, Duck } from "../query/duck.ts";
import type { FileInfo, FileSource } from "../query/types.ts";
import { KLINE_UNREPAIRED_GRACE_US, KlineReconciler } from "./kline-reconciler.ts";
import { readVerdicts } from "./kline-verdicts.ts";

const OPEN_US = Date.UTC(2025, 0, 2, 12) * 1000;
const DATE = "2025-01-02";
const E8 = 100_000_000n;

let duck: Duck;
let writer: DuckDBInstance;
let dir: string;
beforeAll(async () => {
  duck = await Duck.open({ ...DEFAULT_DUCK_OPTIONS, memoryLimitMb: 128, connections: 1, maxQueued: 4 });
  writer = await DuckDBInstance.create(":memory:", { threads: "1" });
});
afterAll(() => duck.close());
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Trades `from..to` of BTCUSDT at price 100, quantity 1, as one Parquet file. */
async function tradesFile(from: number, to: number): Promise<FileInfo> {
  const path = join(dir, `${from}-${to}.parquet`);
  const con = await writer.connect();
  await con.run(
    `COPY (SELECT 'BTCUSDT' AS symbol, i::BIGINT AS trade_id, 100::DECIMAL(18,8) AS price, 1::DECIMAL(18,8) AS quantity
       FROM range(${from}, ${to + 1}) t(i)) TO '${path}' (FORMAT parquet)`,
  );
  con.closeSync();
  return {
    path,
    minId: from,
    maxId: to,
    rows: to - from + 1,
    minEventUs: OPEN_US,
    maxEventUs: OPEN_US + 59_000_000,
  };
}

/** A reconciler over `files`, with a ledger and a repairer that only records what it was asked. */
function rig(files: FileInfo[], repairAfterUs: number) {
  const clock = { us: OPEN_US + 61_000_000 };
  const ledger = new GapLedger();
  const asked: GapEntry[] = [];
  const source: FileSource = {
    files: () => files,
    maxId: () => Math.max(...files.map((f) => f.maxId)),
    coverage: () => [],
  };
  const r = new KlineReconciler({
    dataDir: dir,
    symbols: new SymbolTable(["BTCUSDT"]),
    files: source,
    duck,
    repair: { ledger, enqueue: (g) => asked.push(g) },
    repairAfterUs,
    gapMaxIds: 1000,
    nowUs: () => clock.us,
    log: pino({ level: "silent" }),
  });
  return { r, clock, ledger, asked, verdicts: () => readVerdicts(dir, "BTCUSDT", DATE).minutes };
}

/** The closed kline of ids 1..10 at price 100, quantity 1, counting `count` trades. */
function kline(count: number) {
  const k = allocKlineColumns(1);
  k.symbol_id[0] = 0;
  k.open_time_us[0] = OPEN_US;
  k.close_time_us[0] = OPEN_US + 59_999_999;
  k.first_id[0] = 1;
  k.last_id[0] = 10;
  k.trades[0] = count;
  for (const c of [k.open, k.high, k.low, k.close]) c[0] = 100n * E8;
  k.volume[0] = BigInt(count) * E8;
  k.quote_volume[0] = BigInt(count) * 100n * E8;
  k.closed[0] = 1;
  return k;
}

test("a writer's shortfall: repaired after repairAfterUs, its rows waited for until stored, then `repaired`", async () => {
  dir = mkdtempSync(join(tmpdir(), "k2-reconciler-"));
  const files = [await tradesFile(1, 5), await tradesFile(8, 10)];
  const { r, clock, ledger, asked, verdicts } = rig(files, KLINE_UNREPAIRED_GRACE_US);
  r.push(kline(10), 0);
  await r.tick();
  // Ids 6..7 lack, but the recorders' repairs may still bring them: not asked yet.
  expect(asked.length).toBe(0);
  clock.us += KLINE_UNREPAIRED_GRACE_US + 1;
  await r.tick();
  expect(asked.map((g) => [g.from_id, g.to_id, g.cause])).toEqual([[6, 7, "kline_shortfall"]]);
  // The repair settles; its rows are not in a file yet (the bus, the writer's gathering).
  ledger.set(asked[0]!, "repaired", clock.us);
  clock.us += 1_000_000;
  await r.tick();
  expect(verdicts()).toEqual([]);
  files.push(await tradesFile(6, 7));
  await r.tick();
  expect(verdicts()).toMatchObject([{ verdict: "repaired", stored: 10, trades: 10 }]);
});

test("repaired rows that never arrive: a mismatch once the wait is over; a count no id explains: a mismatch at once", async () => {
  dir = mkdtempSync(join(tmpdir(), "k2-reconciler-"));
  const { r, clock, ledger, asked, verdicts } = rig([await tradesFile(1, 5), await tradesFile(8, 10)], 0);
  r.push(kline(10), 0);
  await r.tick();
  ledger.set(asked[0]!, "repaired", clock.us);
  await r.tick();
  expect(verdicts()).toEqual([]);
  clock.us += KLINE_UNREPAIRED_GRACE_US;
  await r.tick();
  expect(verdicts()).toMatchObject([{ verdict: "mismatch", stored: 8 }]);

  rmSync(dir, { recursive: true, force: true });
  dir = mkdtempSync(join(tmpdir(), "k2-reconciler-"));
  const b = rig([await tradesFile(1, 10)], 0);
  // The kline counts 12 trades in ids 1..10: nothing to repair.
  b.r.push(kline(12), 0);
  await b.r.tick();
  expect(b.asked).toEqual([]);
  expect(b.verdicts()).toMatchObject([{ verdict: "mismatch", stored: 10, trades: 12 }]);
});
