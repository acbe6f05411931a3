/**
 * `k2 backfill --source rest` against the simulator's REST API on 127.0.0.1, every stored row read
 * back with DuckDB: a past day equals the simulator's archive CSV of that day (its ground truth,
 * read with fflate), every id once; a re-run writes nothing and the archive backfill after it
 * finds every row stored; today (still open) lands up to a minute behind the exchange's clock and
 * a later run adds only the new rows; rows stored live before are not written again; a day whose
 * start REST no longer serves, or whose REST fails mid-day, leaves nothing; the run keeps to its
 * weight budget, and a 429 is waited out.
 * (SIGKILL mid-run: rest-kill.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ArchiveCsvParser, archiveZipPath } from "../../src/archive/index.ts";
import {
  type BackfillTable,
  fileLine,
  planJobs,
  runRestBackfill,
  STATE_DIR,
} from "../../src/backfill/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { allocRowColumns } from "../../src/model/index.ts";
import { type SimOptionsInput, type Simulator, startSimulator } from "../../src/sim/index.ts";
import { appendRow, createBatch, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { waitUntil } from "../support/wait.ts";
import { archiveLines, closeReader, dailyFile, filesUnder, storedLines, withDir } from "./archive-rig.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const TABLES: BackfillTable[] = ["trades", "agg_trades"];
const PAST = ["2024-12-31", "2025-01-01"];
const TODAY = "2025-01-02";

/**
 * The archive rig's market (two archived days, then today from 06:00 on), with ids from 0 as on
 * Binance, so the first archived day's first aggregate is id 0 and its start provably served.
 */
const MARKET: SimOptionsInput = {
  startTimeMs: Date.UTC(2025, 0, 2, 6),
  archiveDays: 2,
  archiveRatePerSec: 0.02,
  ratePerSec: 5,
  startTradeId: 0,
  startAggId: 0,
};
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ ...MARKET, symbols: SYMBOLS });
});
afterAll(() => {
  sim.stop();
  closeReader();
});

const file = dailyFile;

/** `k2 backfill --source rest` in this process: exit code, its stderr lines, the per-day lines. */
async function backfill(dataDir: string, argv: string[], restUrl = sim.restUrl, source = "rest") {
  const lines: string[] = [];
  const code = await runBackfillCli(
    ["--source", source, "--data-dir", dataDir, "--batch-rows", "500", ...argv],
    {
      env: { K2_BINANCE_REST_URL: restUrl, K2_ARCHIVE_URL: sim.archiveUrl },
      isTty: false,
      out: () => {},
      error: (l) => lines.push(l),
    },
  );
  return { code, lines, days: lines.filter((l) => /^[A-Z0-9]+ (trades|agg_trades) \d{4}-/.test(l)) };
}

/** Data files outside the backfill's own folder. */
const visible = (dataDir: string) => filesUnder(dataDir).filter((f) => !f.startsWith(STATE_DIR));

/**
 * What the simulator's REST serves from `fromId` on, read with plain fetch (not K2's client), as
 * comparable lines `id,price,qty,time_us,True|False[,first,last]`, up to the newest row.
 */
async function restTruth(table: BackfillTable, symbol: string, fromId: number): Promise<string[]> {
  const out: string[] = [];
  for (let page = 0, from = fromId; page < 100; page++) {
    const path = table === "trades" ? "historicalTrades" : "aggTrades";
    const res = await fetch(`${sim.restUrl}/api/v3/${path}?symbol=${symbol}&fromId=${from}&limit=1000`, {
      headers: { "X-MBX-TIME-UNIT": "MICROSECOND" },
    });
    expect(res.status).toBe(200);
    const rows = (await res.json()) as Record<string, string | number | boolean>[];
    for (const r of rows)
      out.push(
        table === "trades"
          ? `${r.id},${r.price},${r.qty},${r.time},${r.isBuyerMaker ? "True" : "False"}`
          : `${r.a},${r.p},${r.q},${r.T},${r.m ? "True" : "False"},${r.f},${r.l}`,
      );
    if (rows.length < 1000) return out;
    from = Number(out.at(-1)!.split(",")[0]) + 1;
  }
  throw new Error("restTruth: more than 100 pages");
}

describe("k2 backfill --source rest against the simulator", () => {
  test(
    "past days equal the archive's rows, every id once; a re-run writes nothing; the archive finds every row stored",
    () =>
      withDir("k2-backfill-rest-", async (dataDir) => {
        const args = ["--symbols", SYMBOLS.join(","), "--from", PAST[0]!, "--to", PAST[1]!];
        const r = await backfill(dataDir, args);
        expect(r.code).toBe(0);
        expect(r.days.length).toBe(SYMBOLS.length * TABLES.length * PAST.length);
        for (const l of r.days)
          expect(l).toMatch(/: landed (\d+) rows \(\1 new, 0 already stored\) .* from REST, day complete, /);
        for (const table of TABLES)
          for (const symbol of SYMBOLS) {
            const want: string[] = [];
            for (const date of PAST)
              want.push(...(await archiveLines(sim.archiveUrl, file(table, symbol, date))));
            expect(want.length).toBeGreaterThan(1000);
            const got = await storedLines(dataDir, table, symbol);
            expect(got.rows).toBe(got.distinct);
            expect(got.lines).toEqual(want);
          }
        const files = visible(dataDir);

        const again = await backfill(dataDir, args);
        expect(again.code).toBe(0);
        for (const l of again.days)
          expect(l).toEndWith(": already landed (whole day, archive or REST), nothing to do");
        expect(visible(dataDir)).toEqual(files);

        // The archive's own reading of the same days: every row already stored, none written.
        const archive = await backfill(dataDir, args, sim.restUrl, "archive");
        expect(archive.code).toBe(0);
        expect(archive.days.length).toBe(r.days.length);
        for (const l of archive.days) expect(l).toMatch(/: landed (\d+) rows \(0 new, \1 already stored\)/);
        expect(visible(dataDir)).toEqual(files);
      }),
    20_000,
  );

  test(
    "today, still open at the source: lands up to a minute behind the exchange's clock; a later run adds only the new rows",
    () =>
      withDir("k2-backfill-rest-", async (dataDir) => {
        // The live market has begun (06:00 on, 5 trades/s): REST serves rows the cutoff must leave out.
        const clockStartUs = MARKET.startTimeMs! * 1000;
        await waitUntil(
          async () => {
            const res = await fetch(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&limit=1`, {
              headers: { "X-MBX-TIME-UNIT": "MICROSECOND" },
            });
            return ((await res.json()) as { T: number }[])[0]!.T >= clockStartUs;
          },
          5000,
          "a live trade at the simulator",
        );
        const args = ["--symbols", "BTCUSDT", "--from", TODAY, "--to", TODAY];
        const first = await backfill(dataDir, args);
        expect(first.code).toBe(0);
        // The simulator's clock started at 06:00: read through a minute before (plus this run's ms).
        const throughUs: number[] = [];
        for (const l of first.days) {
          const m = / day still open at the source, read through (05:59:\d\d\.\d{3}) UTC/.exec(l);
          expect(m).not.toBeNull();
          throughUs.push(Date.parse(`${TODAY}T${m![1]}Z`) * 1000);
        }
        // Where today starts: right after the archive's yesterday (ids are consecutive).
        const lastId = async (table: BackfillTable) =>
          Number(
            (await archiveLines(sim.archiveUrl, file(table, "BTCUSDT", PAST[1]!))).at(-1)!.split(",")[0],
          );
        const start = { trades: (await lastId("trades")) + 1, agg_trades: (await lastId("agg_trades")) + 1 };
        const counts: Record<string, number> = {};
        for (const table of TABLES) {
          const got = await storedLines(dataDir, table, "BTCUSDT");
          expect(got.rows).toBe(got.distinct);
          expect(got.rows).toBeGreaterThan(200);
          // Exactly the day's rows up to the cutoff, though REST serves newer ones (06:00 on, 5/s).
          const truth = await restTruth(table, "BTCUSDT", start[table]);
          const upTo = truth.filter((l) => Number(l.split(",")[3]) <= Math.min(...throughUs));
          expect(truth.length).toBeGreaterThan(upTo.length);
          expect(got.lines).toEqual(upTo);
          counts[table] = got.rows;
        }

        // A run with no margin (no K2 running beside it) reads up to the newest row: only the new ones.
        await Bun.sleep(300);
        const lines: string[] = [];
        const second = await runRestBackfill({
          dataDir,
          restUrl: sim.restUrl,
          weightBudgetPerMin: 6000,
          jobs: planJobs(["BTCUSDT"], TABLES, TODAY, TODAY),
          concurrency: 1,
          openDayMarginMs: 0,
          onFile: (o) => lines.push(fileLine(o)),
        });
        expect(second.landed).toBe(2);
        for (const table of TABLES) {
          const line = lines.find((l) => l.startsWith(`BTCUSDT ${table} `))!;
          expect(line).toMatch(/ day still open at the source, read through 06:00:/);
          const m = /: landed (\d+) rows \((\d+) new, (\d+) already stored\)/.exec(line)!;
          expect(Number(m[3])).toBe(counts[table]!);
          expect(Number(m[2])).toBeGreaterThan(0);
          const got = await storedLines(dataDir, table, "BTCUSDT");
          expect(got.rows).toBe(got.distinct);
          expect(got.rows).toBe(Number(m[1]));
          const truth = await restTruth(table, "BTCUSDT", start[table]);
          expect(got.lines).toEqual(truth.slice(0, got.rows));
        }
      }),
    20_000,
  );

  test(
    "rows stored live before (that day and past midnight in the next day's partition) are not written again",
    () =>
      withDir("k2-backfill-rest-", async (dataDir) => {
        const date = PAST[1]!;
        const f = file("trades", "BTCUSDT", date);
        const zip = new Uint8Array(
          await (await fetch(`${sim.archiveUrl}/${archiveZipPath(f)}`)).arrayBuffer(),
        );
        const { unzipSync } = await import("fflate");
        const csv = Object.values(unzipSync(zip))[0]!;
        const rows = allocRowColumns(10_000);
        let n = 0;
        const parser = new ArchiveCsvParser({ dataset: "trades", rows, flush: (c) => (n = c) }, 0, 1, "t");
        parser.push(csv);
        parser.end();
        expect(n).toBeGreaterThan(1000);
        // As live ingest stores them: event time a few ms after trade time, the live writer.
        const pool = await ParquetWriterPool.start({ dataDir });
        const middle = createBatch({ table: "trades", symbol: "BTCUSDT", symbolId: 0, day: date }, 500);
        for (let i = 500; i < 1000; i++) {
          rows.event_time_us[i] = rows.event_time_us[i]! + 5000;
          expect(appendRow(middle, rows, i)).toBe(0);
        }
        // The day's last three trades, received after midnight: stored under the next day.
        const dayEndUs = Date.parse(`${TODAY}T00:00:00Z`) * 1000;
        const late = createBatch({ table: "trades", symbol: "BTCUSDT", symbolId: 0, day: TODAY }, 3);
        for (let i = n - 3; i < n; i++) {
          rows.event_time_us[i] = dayEndUs + 1000 + i - n;
          expect(appendRow(late, rows, i)).toBe(0);
        }
        await pool.write(middle);
        await pool.write(late);
        await pool.close();

        const r = await backfill(dataDir, [
          "--symbols",
          "BTCUSDT",
          "--tables",
          "trades",
          "--from",
          date,
          "--to",
          date,
        ]);
        expect(r.code).toBe(0);
        expect(r.days[0]).toMatch(new RegExp(`: landed ${n} rows \\(${n - 503} new, 503 already stored\\)`));
        const got = await storedLines(dataDir, "trades", "BTCUSDT");
        expect(got.rows).toBe(got.distinct);
        expect(got.lines).toEqual(await archiveLines(sim.archiveUrl, f));
      }),
    20_000,
  );

  test(
    "REST failing mid-day (after rows were staged) fails that day with nothing visible; the next run lands it whole",
    () =>
      withDir("k2-backfill-rest-", async (dataDir) => {
        // A proxy that answers 500 from its 5th request on: the clock asked, the day's start found
        // and proven, its first page of trades staged (batches of 100 rows), then every call fails.
        let requests = 0;
        let broken = true;
        const proxy = Bun.serve({
          hostname: "127.0.0.1",
          port: 0,
          async fetch(req) {
            const u = new URL(req.url);
            if (broken && ++requests > 4) return new Response("{}", { status: 500 });
            const res = await fetch(`${sim.restUrl}${u.pathname}${u.search}`, { headers: req.headers });
            return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
          },
        });
        try {
          const run = (restUrl: string) =>
            runRestBackfill({
              dataDir,
              restUrl,
              weightBudgetPerMin: 6000,
              jobs: planJobs(["BTCUSDT"], ["trades"], PAST[1]!, PAST[1]!),
              concurrency: 1,
              batchRows: 100,
              retryDelayMs: () => 5,
            });
          const s = await run(`http://127.0.0.1:${proxy.port}`);
          expect(s.failed).toBe(1);
          const o = s.outcomes[0]!;
          expect(o.error?.message).toMatch(/HTTP 500/);
          expect(requests).toBe(4 + 8); // the 8 attempts of the failing page, then given up
          expect(visible(dataDir)).toEqual([]);
          expect(filesUnder(join(dataDir, STATE_DIR))).toEqual([]);

          broken = false;
          const ok = await run(`http://127.0.0.1:${proxy.port}`);
          expect(ok.landed).toBe(1);
          const got = await storedLines(dataDir, "trades", "BTCUSDT");
          expect(got.rows).toBe(got.distinct);
          expect(got.lines).toEqual(await archiveLines(sim.archiveUrl, file("trades", "BTCUSDT", PAST[1]!)));
        } finally {
          proxy.stop(true);
        }
      }),
    20_000,
  );
});

describe("k2 backfill --source rest at REST's limits", () => {
  test("a day whose start REST no longer serves is reported unavailable, nothing written (exit 1); a day it serves none of is not journaled", async () => {
    // 1000 trades of history: it starts in the middle of yesterday.
    const short = await startSimulator({ ...MARKET, symbols: ["BTCUSDT"], historyLimit: 1000 });
    try {
      await withDir("k2-backfill-rest-", async (dataDir) => {
        const r = await backfill(
          dataDir,
          ["--symbols", "BTCUSDT", "--from", PAST[1]!, "--to", PAST[1]!],
          short.restUrl,
        );
        expect(r.code).toBe(1);
        expect(r.days.length).toBe(2);
        for (const l of r.days)
          expect(l).toMatch(
            /: FAILED unavailable, skipped, nothing written: REST's aggTrades no longer reach the day's start/,
          );
        expect(visible(dataDir)).toEqual([]);
        // The day before: REST serves none of it. Reported, not journaled as a whole (empty) day.
        for (let run = 0; run < 2; run++) {
          const older = await backfill(
            dataDir,
            ["--symbols", "BTCUSDT", "--from", PAST[0]!, "--to", PAST[0]!],
            short.restUrl,
          );
          expect(older.code).toBe(0);
          expect(older.days.length).toBe(2);
          for (const l of older.days)
            expect(l).toMatch(/: REST serves no trade in this day, nothing written, /);
        }
        expect(visible(dataDir)).toEqual([]);
        expect(existsSync(join(dataDir, STATE_DIR, "landed.jsonl"))).toBe(false);
      });
    } finally {
      await short.stop();
    }
  }, 20_000);

  test("the run keeps to its weight budget: a simulator allowing exactly that budget never answers 429", async () => {
    // On the wall clock, as Binance is: its weight windows and the client's start together.
    const capped = await startSimulator({
      ...MARKET,
      startTimeMs: null,
      archiveDays: 1,
      symbols: ["BTCUSDT"],
      restWeightLimit: 60,
      restWeightWindowMs: 1000,
    });
    const yesterday = capped.archiveTruth().dates[0]!;
    try {
      await withDir("k2-backfill-rest-", async (dataDir) => {
        const s = await runRestBackfill({
          dataDir,
          restUrl: capped.restUrl,
          weightBudgetPerMin: 60,
          weightWindowMs: 1000,
          jobs: planJobs(["BTCUSDT"], TABLES, yesterday, yesterday),
          concurrency: 2,
        });
        expect(s.landed).toBe(2);
        const log = capped.restLog();
        expect(log.filter((e) => e.status !== 200)).toEqual([]);
        // The days took more than one window's weight: the run waited for the next windows.
        const perWindow = new Map<number, number>();
        for (const e of log) {
          const w = Math.floor(e.atUs / 1e6);
          perWindow.set(w, (perWindow.get(w) ?? 0) + e.weight);
        }
        expect(perWindow.size).toBeGreaterThan(1);
        for (const w of perWindow.values()) expect(w).toBeLessThanOrEqual(60);
        for (const table of TABLES) {
          const got = await storedLines(dataDir, table, "BTCUSDT");
          expect(got.lines).toEqual(await archiveLines(capped.archiveUrl, file(table, "BTCUSDT", yesterday)));
        }
      });
    } finally {
      await capped.stop();
    }
  }, 20_000);

  test("a 429 is waited out (Retry-After): never called again during the back-off, no ban, every row once", async () => {
    // 40 weight per 1 s window: one page of trades (25) and a few aggTrades calls (4) per window.
    const tight = await startSimulator({
      ...MARKET,
      symbols: ["BTCUSDT"],
      restWeightLimit: 40,
      restWeightWindowMs: 1000,
    });
    try {
      await withDir("k2-backfill-rest-", async (dataDir) => {
        const t0 = performance.now();
        // K2's own budget is far above the simulator's: only the 429s slow it down.
        const r = await backfill(
          dataDir,
          [
            "--symbols",
            "BTCUSDT",
            "--from",
            PAST[1]!,
            "--to",
            PAST[1]!,
            "--concurrency",
            "1",
            "--rest-weight",
            "6000",
          ],
          tight.restUrl,
        );
        expect(r.code).toBe(0);
        const log = tight.restLog();
        const limited = log.filter((e) => e.status === 429);
        expect(limited.length).toBeGreaterThan(0);
        expect(limited.every((e) => e.verdict === "over_budget")).toBe(true);
        expect(log.filter((e) => e.status === 418).length).toBe(0);
        // Each 429's next request came after its Retry-After (the simulator judged "in_backoff" otherwise).
        for (const e of limited) {
          const next = log.find((x) => x.atUs > e.atUs);
          if (next) expect(next.atUs - e.atUs).toBeGreaterThanOrEqual(e.retryAfterS * 1e6 - 20_000);
        }
        expect(performance.now() - t0).toBeGreaterThan(900);
        for (const table of TABLES) {
          const got = await storedLines(dataDir, table, "BTCUSDT");
          expect(got.rows).toBe(got.distinct);
          expect(got.lines).toEqual(await archiveLines(tight.archiveUrl, file(table, "BTCUSDT", PAST[1]!)));
        }
      });
    } finally {
      await tight.stop();
    }
  }, 20_000);
});
