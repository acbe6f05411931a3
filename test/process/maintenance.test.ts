/**
 * Maintenance inside a running K2, with ingest and queries at once: compaction of today's small
 * files, of a closed day, and retention of an old day, each on K2's own timer
 * (K2_MAINTENANCE_INTERVAL_MS). Two earlier runs record an old day (5 days ago) and yesterday
 * from simulators whose clocks start in the past; the third run records today with retention at
 * 3 days while a client keeps reading across all of it. Judged from the disk (folders, footers
 * read with hyparquet), the queries' answers, and DuckDB against the whole ground truth.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import {
  expectStored,
  mergeTruths,
  newestId,
  pauseAndCatchUp,
  resumeWhenConnected,
  simEnv,
  type Truth,
  truthOf,
  waitUntil,
} from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";
import { footerReplaces, partitionDirs, partitionFiles } from "../support/partitions.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const DAY_MS = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let sim: Simulator | undefined;
let k2: K2Process | undefined;
const dirs: string[] = [];
afterEach(async () => {
  k2?.cleanup();
  k2 = undefined;
  await sim?.stop();
  sim = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Ids of each day start far apart and rise, as on Binance: a later day never reuses an id. */
function dayOptions(daysAgo: number, base: number) {
  return {
    symbols: SYMBOLS,
    ratePerSec: 200,
    seed: 30 + daysAgo,
    startTimeMs: Date.now() - daysAgo * DAY_MS,
    startTradeId: base,
    startAggId: base,
    startUpdateId: base * 10,
    faults: { paused: true },
  };
}

/** Record a bounded run of a past day into dataDir and return its truth. */
async function recordPastDay(dataDir: string, daysAgo: number, base: number): Promise<Truth> {
  sim = await startSimulator(dayOptions(daysAgo, base));
  const s = sim;
  k2 = await startK2(simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir, K2_FLUSH_INTERVAL_MS: "100" }));
  const url = k2.url;
  await resumeWhenConnected(s);
  for (const sym of SYMBOLS)
    await waitUntil(
      async () => (await newestId(url, "trades", sym)) >= base + 150,
      10_000,
      `${sym} day -${daysAgo}`,
    );
  await pauseAndCatchUp(s, url, SYMBOLS);
  expect((await k2.stop()).code).toBe(0);
  k2 = undefined;
  const truth = truthOf(s, SYMBOLS);
  await s.stop();
  sim = undefined;
  return truth;
}

/** A client reading old, compacting and live data in a loop: every answer must be whole. */
function reader(url: string, todayStartMs: number) {
  const problems: string[] = [];
  let answers = 0;
  let stop = false;
  const queries = SYMBOLS.flatMap((sym) => [
    `/v1/trades?symbol=${sym}&limit=1000`, // oldest first: the old day, then yesterday
    `/v1/trades?symbol=${sym}&limit=1000&start=${todayStartMs}`, // today's first files, being merged
    `/v1/agg-trades?symbol=${sym}&limit=500&order=desc`, // live
  ]);
  const done = (async () => {
    for (let i = 0; !stop && i < 100_000; i++) {
      const q = queries[i % queries.length]!;
      const r = await fetch(`${url}${q}`);
      if (r.status !== 200) {
        problems.push(`${q}: HTTP ${r.status} ${await r.text()}`);
        continue;
      }
      const body = (await r.json()) as { data: Record<string, number>[] };
      const ids = body.data.map((row) => row.trade_id ?? row.agg_trade_id ?? 0);
      const asc = !q.includes("desc");
      for (let k = 1; k < ids.length; k++)
        if (asc ? ids[k]! <= ids[k - 1]! : ids[k]! >= ids[k - 1]!) {
          problems.push(`${q}: ids out of order or repeated at ${k}: ${ids[k - 1]}, ${ids[k]}`);
          break;
        }
      answers++;
    }
  })();
  return {
    problems,
    answers: () => answers,
    async stop() {
      stop = true;
      await done;
    },
  };
}

test("compaction and retention run inside K2 under ingest and queries; every kept trade once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-maint-"));
  dirs.push(dataDir);
  const now = Date.now();
  const oldDate = dateOf(now - 5 * DAY_MS);
  const yesterday = dateOf(now - DAY_MS);
  const today = dateOf(now);
  await recordPastDay(dataDir, 5, 1_000);
  const truthYesterday = await recordPastDay(dataDir, 1, 1_000_000);
  for (const t of ["trades", "agg_trades"])
    for (const sym of SYMBOLS) {
      expect(existsSync(join(dataDir, t, `date=${oldDate}`, `symbol=${sym}`))).toBe(true);
      const files = partitionFiles(join(dataDir, t, `date=${yesterday}`, `symbol=${sym}`));
      expect(files.length).toBeGreaterThanOrEqual(2); // something for the closed-day compaction
    }

  sim = await startSimulator(dayOptions(0, 2_000_000));
  const s = sim;
  k2 = await startK2(
    simEnv(s, SYMBOLS, {
      K2_DATA_DIR: dataDir,
      K2_FLUSH_INTERVAL_MS: "100",
      K2_MAINTENANCE_INTERVAL_MS: "300",
      K2_COMPACT_MIN_FILES: "4",
      K2_RETENTION_DAYS: "3",
      K2_QUERY_ROW_CACHE: "0", // every page a DuckDB read that pins the files maintenance replaces
    }),
  );
  const url = k2.url;
  await resumeWhenConnected(s);
  const load = reader(url, Date.parse(`${today}T00:00:00Z`));
  const merged = (table: string, sym: string) =>
    partitionFiles(join(dataDir, table, `date=${today}`, `symbol=${sym}`)).some(
      (f) => !f.temp && footerReplaces(f.path).length >= 4,
    );
  try {
    await waitUntil(
      () =>
        partitionDirs(dataDir).every((d) => !d.includes(`date=${oldDate}`)) &&
        ["trades", "agg_trades"].every((t) =>
          SYMBOLS.every(
            (sym) =>
              partitionFiles(join(dataDir, t, `date=${yesterday}`, `symbol=${sym}`)).filter((f) => !f.temp)
                .length === 1 && merged(t, sym),
          ),
        ),
      20_000,
      "retention of the old day, yesterday in one file, today's small files merged",
    );
    expect(load.answers()).toBeGreaterThan(0);
    await pauseAndCatchUp(s, url, SYMBOLS);
  } finally {
    await load.stop();
  }
  expect(load.problems).toEqual([]);
  expect(load.answers()).toBeGreaterThan(10);
  expect((await k2.stop()).code).toBe(0);
  k2 = undefined;
  // The old day is gone (folders too), yesterday and today are whole, each trade once.
  expect(partitionDirs(dataDir).filter((d) => d.includes(oldDate))).toEqual([]);
  await expectStored(dataDir, mergeTruths(truthYesterday, truthOf(s, SYMBOLS)));
}, 90_000);
