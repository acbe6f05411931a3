/**
 * Issue 17's proof, against the simulator: a live K2 ingests today (trades + klines, one kline
 * falsified) while `k2 backfill`, a second process on the same data folder, loads the four
 * archived days before it — every archive fault on at once (a missing day, a wrong checksum, a
 * truncated zip, a stale upload later replaced). Every day's certificate must say what is true:
 *   1. faults on: the three days the archive cannot give are `unverified` with nothing stored, the
 *      stale day `complete` against what the archive then says, the aggTrades days `complete`, and
 *      today `incomplete` (a kline disagrees) with the archive `not_published`;
 *   2. faults cleared (the stale file replaced), before any new backfill: each of the four days
 *      `incomplete`, naming exactly the ids missing (the whole day, or the replaced file's new row);
 *   3. the backfill re-run: all four `complete`, hashes equal to the archive's;
 *   4. a stored file deleted: `k2 verify` exits 1 and names exactly that file's ids.
 * Trade ids start at 1 and are contiguous, so each day's ids follow from the archive's row counts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { ArchiveFault } from "../../src/sim/archive-http.ts";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { resumeWhenConnected, simEnv, waitUntil } from "../../test/support/bounded-run.ts";
import { type K2Process, ROOT, startK2 } from "../../test/support/k2-process.ts";

const DAYS = ["2024-12-29", "2024-12-30", "2024-12-31", "2025-01-01"]; // ms times, then µs
const TODAY = "2025-01-02";
const FAULTS: Record<string, ArchiveFault> = {
  "2024-12-29": "missing",
  "2024-12-30": "badChecksum",
  "2024-12-31": "truncated",
  "2025-01-01": "stale",
};

interface Cert {
  verdict: "complete" | "incomplete" | "unverified";
  reasons: string[];
  stored: {
    rows: number;
    first_id: number | null;
    last_id: number | null;
    sha256: string;
    missing: { from_id: number; to_id: number }[];
  };
  archive: { status: string; rows?: number; sha256?: string };
  klines: { minutes: Record<string, number> } | null;
}

let sim: Simulator;
let k2: K2Process;

beforeAll(async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    // A few seconds before a minute boundary: the first closed minute is one K2 saw whole.
    startTimeMs: Date.UTC(2025, 0, 2, 0, 0, 54),
    archiveDays: 4,
    archiveRatePerSec: 0.02,
    ratePerSec: 50,
    startTradeId: 1,
    startAggId: 1,
    faults: { paused: true },
  });
  k2 = await startK2(
    simEnv(sim, ["BTCUSDT"], {
      K2_STREAMS: "trade,aggTrade,kline",
      K2_ARCHIVE_URL: sim.archiveUrl,
      K2_MAINTENANCE_INTERVAL_MS: "500",
    }),
  );
  await resumeWhenConnected(sim);
  sim.faults.klineCountOff(2, "BTCUSDT");
});
afterAll(async () => {
  await k2?.stop();
  k2?.cleanup();
  await sim?.stop();
});

const file = (date: string) => ({ dataset: "trades", symbol: "BTCUSDT", date }) as const;
const rowsOf = (date: string) => sim.archiveTruth().rows("trades", "BTCUSDT", date);
/** The day's trade ids [first, last]: ids start at 1 and run on from day to day. */
function idsOf(date: string): [number, number] {
  let first = 1;
  for (const d of DAYS) {
    if (d === date) return [first, first + rowsOf(d) - 1];
    first += rowsOf(d);
  }
  throw new Error(`not an archived day: ${date}`);
}

async function cert(date: string, table = "trades"): Promise<Cert> {
  const r = await fetch(`${k2.url}/v1/completeness?symbol=BTCUSDT&date=${date}&table=${table}`);
  expect(r.status).toBe(200);
  return (await r.json()) as Cert;
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, "run", "src/main.ts", ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, K2_ARCHIVE_URL: sim.archiveUrl },
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, out, err };
}

const backfill = () =>
  run(
    "backfill",
    "--symbols",
    "BTCUSDT",
    "--from",
    DAYS[0]!,
    "--to",
    DAYS.at(-1)!,
    "--data-dir",
    k2.dataDir,
    "--batch-rows",
    "500",
  );

test("every day's certificate says what is true through backfill, live ingest and every archive fault", async () => {
  for (const d of DAYS) sim.faults.archive(file(d), FAULTS[d]!);
  const first = await backfill();
  console.log(first.err.trim());
  expect(first.code).toBe(1);
  expect(first.err).toMatch(/BTCUSDT trades 2024-12-29: FAILED not_found/);
  expect(first.err).toMatch(/BTCUSDT trades 2024-12-30: FAILED checksum_mismatch/);
  expect(first.err).toMatch(/BTCUSDT trades 2024-12-31: FAILED corrupt_zip/);
  expect(first.err).toMatch(/BTCUSDT trades 2025-01-01: landed \d+ rows/);

  // 1. Faults on.
  for (const d of DAYS.slice(0, 3)) {
    const c = await cert(d);
    console.log(
      `faults on   trades ${d}: ${c.verdict} (stored ${c.stored.rows}, archive ${c.archive.status})`,
    );
    expect(c.verdict).toBe("unverified");
    expect(c.stored.rows).toBe(0);
    expect(c.archive.status).toBe(d === "2024-12-29" ? "not_published" : "error");
  }
  const stale = await cert("2025-01-01");
  console.log(
    `faults on   trades 2025-01-01: ${stale.verdict} (stored ${stale.stored.rows} = the stale upload's rows)`,
  );
  expect(stale.verdict).toBe("complete");
  expect(stale.stored.rows).toBe(rowsOf("2025-01-01") - 1);
  for (const d of DAYS) expect((await cert(d, "agg_trades")).verdict).toBe("complete");
  // Today: the falsified kline has been judged once its minute closed and its trades were stored.
  await waitUntil(
    async () => ((await cert(TODAY)).klines?.minutes.mismatch ?? 0) > 0,
    30_000,
    "today's kline mismatch",
  );
  const today = await cert(TODAY);
  console.log(
    `faults on   trades ${TODAY}: ${today.verdict} (klines ${JSON.stringify(today.klines?.minutes)}; archive ${today.archive.status})`,
  );
  expect(today.verdict).toBe("incomplete");
  expect(today.archive.status).toBe("not_published");
  expect(today.reasons.join("\n")).toMatch(/klines disagree with the stored trades/);

  // 2. Faults cleared, the stale upload replaced: the archive now shows what K2 lacks, exactly.
  for (const d of DAYS) sim.faults.archive(file(d), "none");
  for (const d of DAYS) {
    const c = await cert(d);
    const [a, b] = idsOf(d);
    const want = d === "2025-01-01" ? [{ from_id: b, to_id: b }] : [{ from_id: a, to_id: b }];
    console.log(
      `replaced    trades ${d}: ${c.verdict}, missing ${JSON.stringify(c.stored.missing.map((m) => [m.from_id, m.to_id]))}`,
    );
    expect(c.verdict).toBe("incomplete");
    expect(c.stored.missing.map(({ from_id, to_id }) => ({ from_id, to_id }))).toEqual(want);
  }

  // 3. The backfill re-run lands what was missing; every day is complete and hashes as the archive.
  const second = await backfill();
  console.log(second.err.trim());
  expect(second.code).toBe(0);
  for (const d of DAYS) {
    const c = await cert(d);
    console.log(
      `re-run      trades ${d}: ${c.verdict}, stored ${c.stored.rows} of the archive's ${c.archive.rows}`,
    );
    expect(c.verdict).toBe("complete");
    expect(c.stored.rows).toBe(rowsOf(d));
    expect(c.stored.sha256).toBe(c.archive.sha256!);
  }

  // 4. A stored file deleted is caught by `k2 verify`, with exactly its ids. K2 is stopped first:
  // its maintenance may merge the day's files meanwhile, and a merged copy of the deleted file's
  // ids (the originals kept for their grace period) would make the deletion invisible.
  expect((await k2.stop()).code).toBe(0);
  const dayDir = join(k2.dataDir, "trades", "date=2024-12-30", "symbol=BTCUSDT");
  const files = readdirSync(dayDir)
    .filter((f) => f.endsWith(".parquet"))
    .sort((x, y) => Number(x.split("-")[0]) - Number(y.split("-")[0]));
  const victim = files[Math.floor(files.length / 2)]!;
  const [lo, hi] = victim.split("-").slice(0, 2).map(Number) as [number, number];
  unlinkSync(join(dayDir, victim));
  const v = await run(
    "verify",
    "--date",
    "2024-12-30",
    "--symbols",
    "BTCUSDT",
    "--table",
    "trades",
    "--data-dir",
    k2.dataDir,
    "--json",
  );
  console.log(`deleted ${victim}: k2 verify exit ${v.code}`);
  expect(v.code).toBe(1);
  const c = JSON.parse(v.out.trim()) as Cert;
  expect(c.verdict).toBe("incomplete");
  expect(c.stored.missing.map(({ from_id, to_id }) => ({ from_id, to_id }))).toEqual([
    { from_id: lo, to_id: hi },
  ]);
}, 120_000);
