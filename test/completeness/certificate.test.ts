/**
 * Completeness certificates (issue 17 part 3) against the simulator's public archive over
 * loopback: a stored day equal to the archive's is complete, and its canonical SHA-256 equals
 * both the archive's and one DuckDB computes independently from the Parquet files (the one-liner
 * of docs/completeness.md); a deleted stored file makes `k2 verify` (a real process) exit 1 and
 * name exactly the ids it held; a day the archive has not published is unverified.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { type Certificate, certify } from "../../src/completeness/index.ts";
import { DEFAULT_DUCK_OPTIONS, Duck } from "../../src/query/duck.ts";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { BinanceRest } from "../../src/source/binance/rest.ts";
import { storeArchiveDay } from "../support/archive-day.ts";
import { ROOT } from "../support/k2-process.ts";

const DATE = "2025-01-02";
/** Each test passes its own timeout: under a loaded full suite the preloaded default has been seen at 5 s. */
let sim: Simulator;
let duck: Duck;
const dirs: string[] = [];
beforeAll(async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: Date.UTC(2025, 0, 3, 0, 0, 5),
    archiveDays: 1,
    archiveRatePerSec: 0.1,
    startTradeId: 1,
    faults: { paused: true },
  });
  duck = await Duck.open({ ...DEFAULT_DUCK_OPTIONS, memoryLimitMb: 256, connections: 1, maxQueued: 4 });
});
afterAll(async () => {
  duck.close();
  await sim.stop();
});
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `k2 verify` as a real process (async: the simulator serving its archive lives in this one). */
async function verify(dir: string, ...extra: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(
    [
      process.execPath,
      "run",
      "src/main.ts",
      "verify",
      "--date",
      DATE,
      "--data-dir",
      dir,
      "--archive-url",
      sim.archiveUrl,
      ...extra,
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, out };
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "k2-cert-"));
  dirs.push(d);
  return d;
}

/** sha256 of the canonical text, computed by DuckDB alone over the day's Parquet files. */
async function duckdbHash(dir: string): Promise<string> {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(
      `SELECT sha256(coalesce(string_agg(concat_ws(',', trade_id, price, quantity, epoch_us(trade_time_us), is_buyer_maker) || chr(10), '' ORDER BY trade_id), '')) AS h
       FROM read_parquet('${dir}/trades/*/symbol=BTCUSDT/*.parquet')
       WHERE trade_time_us >= TIMESTAMPTZ '${DATE} 00:00:00+00' AND trade_time_us < TIMESTAMPTZ '${DATE} 00:00:00+00' + INTERVAL 1 DAY`,
    );
    return String(r.getRowObjectsJS()[0]!.h);
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

const certifyIn = (dir: string, date = DATE): Promise<Certificate> =>
  certify({ dataDir: dir, duck, archiveRoot: sim.archiveUrl, gaps: () => [] }, "trades", "BTCUSDT", date);

test("a stored day equal to the archive's is complete; its canonical hash is reproduced by DuckDB", async () => {
  const dir = dataDir();
  const truth = sim.archiveTruth().rows("trades", "BTCUSDT", DATE);
  const { rows } = await storeArchiveDay(sim.archiveUrl, dir, "trades", "BTCUSDT", DATE, truth + 1);
  expect(rows).toBe(truth);
  const c = await certifyIn(dir);
  expect(c.verdict).toBe("complete");
  expect(c.reasons).toEqual([]);
  expect(c.stored.rows).toBe(truth);
  expect(c.stored.missing).toEqual([]);
  expect(c.archive).toMatchObject({ status: "published", rows: truth, first_id: 1, last_id: truth });
  expect(c.stored.sha256).toBe((c.archive as { sha256: string }).sha256);
  expect(c.stored.sha256).toBe(await duckdbHash(dir));
}, 30_000);

test("k2 verify exits 1 and names exactly the ids of a deleted stored file", async () => {
  const dir = dataDir();
  const truth = sim.archiveTruth().rows("trades", "BTCUSDT", DATE);
  const { paths } = await storeArchiveDay(sim.archiveUrl, dir, "trades", "BTCUSDT", DATE, truth + 1, 3);
  const clean = await verify(dir);
  expect(clean.code).toBe(0);
  expect(clean.out).toContain(`trades BTCUSDT ${DATE}: COMPLETE`);
  // The middle file: its ids are a hole inside the day.
  const gone = /(\d+)-(\d+)-\d+-\d+\.parquet$/.exec(paths[1]!)!;
  unlinkSync(paths[1]!);
  const r = await verify(dir, "--json");
  expect(r.code).toBe(1);
  const c = JSON.parse(r.out.trim()) as Certificate;
  expect(c.verdict).toBe("incomplete");
  expect(c.stored.missing).toEqual([{ from_id: Number(gone[1]), to_id: Number(gone[2]), causes: [] }]);
  expect(c.reasons.join("\n")).toContain(`ids ${Number(gone[1])}..${Number(gone[2])} are not stored`);
}, 30_000);

test("a day the archive has not published is unverified, not complete", async () => {
  const dir = dataDir();
  const c = await certifyIn(dir, "2025-01-03");
  expect(c.archive.status).toBe("not_published");
  expect(c.verdict).toBe("unverified");
}, 30_000);

test("a replaced archive file (new CHECKSUM) is read again: the stale upload's verdict does not stick", async () => {
  const dir = dataDir();
  const truth = sim.archiveTruth().rows("trades", "BTCUSDT", DATE);
  await storeArchiveDay(sim.archiveUrl, dir, "trades", "BTCUSDT", DATE, truth + 1);
  const file = { dataset: "trades", symbol: "BTCUSDT", date: DATE } as const;
  sim.faults.archive(file, "stale"); // the first upload lacks the day's last row
  try {
    const stale = await certifyIn(dir);
    expect(stale.verdict).toBe("incomplete");
    expect(stale.reasons).toContain(`the archive has ${truth - 1} rows, K2 stores ${truth}`);
    const recorded = (stale.archive as { checksum: string }).checksum;
    expect((await certifyIn(dir)).archive).toEqual(stale.archive); // same CHECKSUM: the recorded reading
    sim.faults.archive(file, "none"); // Binance replaces the file
    const fresh = await certifyIn(dir);
    expect(fresh.verdict).toBe("complete");
    expect((fresh.archive as { checksum: string }).checksum).not.toBe(recorded);
  } finally {
    sim.faults.archive(file, "none");
  }
}, 30_000);

test("REST spot checks compare pages of the simulator's REST history row by row with the stored rows", async () => {
  const dir = dataDir();
  const truth = sim.archiveTruth().rows("trades", "BTCUSDT", DATE);
  await storeArchiveDay(sim.archiveUrl, dir, "trades", "BTCUSDT", DATE, truth + 1);
  const rest = new BinanceRest({ baseUrl: sim.restUrl });
  const deps = { dataDir: dir, duck, archiveRoot: sim.archiveUrl, gaps: () => [], rest };
  const c = await certify(deps, "trades", "BTCUSDT", DATE, 3);
  expect(c.rest).toMatchObject({ pages: 3, weight: 75, differences: [] });
  expect(c.rest!.rows_compared).toBe(300);
  expect(c.verdict).toBe("complete");
}, 30_000);

test("agg_trades: a stored day equal to the archive's is complete, hashed with first/last trade ids", async () => {
  const dir = dataDir();
  const truth = sim.archiveTruth().rows("aggTrades", "BTCUSDT", DATE);
  await storeArchiveDay(sim.archiveUrl, dir, "agg_trades", "BTCUSDT", DATE, truth + 1);
  const c = await certify(
    { dataDir: dir, duck, archiveRoot: sim.archiveUrl, gaps: () => [] },
    "agg_trades",
    "BTCUSDT",
    DATE,
  );
  expect(c.verdict).toBe("complete");
  expect(c.stored.rows).toBe(truth);
  expect(c.klines).toBeNull();
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(
      `SELECT sha256(string_agg(concat_ws(',', agg_trade_id, price, quantity, first_trade_id, last_trade_id, epoch_us(trade_time_us), is_buyer_maker) || chr(10), '' ORDER BY agg_trade_id)) AS h
       FROM read_parquet('${dir}/agg_trades/*/symbol=BTCUSDT/*.parquet')`,
    );
    expect(c.stored.sha256).toBe(String(r.getRowObjectsJS()[0]!.h));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}, 30_000);
