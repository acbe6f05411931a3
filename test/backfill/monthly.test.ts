/**
 * `k2 backfill` with monthly archive files, against the simulator's archive over HTTP on
 * 127.0.0.1 (its monthly zips are written in zip64 form, so the reader's zip64 path runs end to
 * end), stored rows read back with DuckDB. Ground truth: the simulator's daily files of the same
 * days, unzipped by fflate and split by hand. (SIGKILL mid-month: monthly-kill.test.ts.)
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type ArchiveFile, archiveUrl, archiveZipPath, zipEntry } from "../../src/archive/index.ts";
import { type BackfillTable, daysBetween, STATE_DIR } from "../../src/backfill/index.ts";
import { BackfillAdopter, Catalog } from "../../src/catalog/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { archiveLines, filesUnder, storedLines, withDir } from "./archive-rig.ts";
import { monthSimPerFile } from "./month-rig.ts";

const SYMBOL = "BTCUSDT";
const MONTH = "2025-02";
/** Two days of January (a partial month: daily files), then the whole of February (monthly). */
const FROM = "2025-01-30";
const TO = "2025-02-28";
const DATASET = { trades: "trades", agg_trades: "aggTrades" } as const;
const rig = monthSimPerFile([SYMBOL]);

const daily = (table: BackfillTable, date: string): ArchiveFile => ({
  dataset: DATASET[table],
  period: "daily",
  symbol: SYMBOL,
  date,
});
const monthly = (table: BackfillTable): ArchiveFile => ({ ...daily(table, MONTH), period: "monthly" });

/** `k2 backfill` in this process: exit code, its stderr lines, and the per-file lines. */
async function backfill(dataDir: string, extra: string[], from = FROM, to = TO) {
  const lines: string[] = [];
  const code = await runBackfillCli(
    [
      "--symbols",
      SYMBOL,
      "--from",
      from,
      "--to",
      to,
      "--data-dir",
      dataDir,
      "--batch-rows",
      "4096",
      ...extra,
    ],
    { env: { K2_ARCHIVE_URL: rig.sim.archiveUrl }, isTty: false, out: () => {}, error: (l) => lines.push(l) },
  );
  return {
    code,
    lines,
    out: lines.join("\n"),
    files: lines.filter((l) => /^[A-Z0-9]+ (trades|agg_trades) \d{4}-/.test(l)),
  };
}

/** The truth for `table` over [from, to]: the daily files' rows, in order. */
async function truth(table: BackfillTable, from = FROM, to = TO): Promise<string[]> {
  const want: string[] = [];
  for (const date of daysBetween(from, to))
    want.push(...(await archiveLines(rig.sim.archiveUrl, daily(table, date))));
  return want;
}

async function expectStoredOnce(
  dataDir: string,
  tables: BackfillTable[],
  from = FROM,
  to = TO,
): Promise<void> {
  for (const table of tables) {
    const want = await truth(table, from, to);
    expect(want.length).toBeGreaterThan(10_000);
    const got = await storedLines(dataDir, table, SYMBOL);
    expect(got.rows).toBe(got.distinct);
    expect(got.lines.length).toBe(want.length);
    expect(got.lines).toEqual(want);
  }
}

function journal(dataDir: string): Array<{ table: string; date: string; path: string; part?: boolean }> {
  return readFileSync(join(dataDir, STATE_DIR, "landed.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

describe("k2 backfill: monthly archive files", () => {
  test("the simulator's monthly file is zip64 and holds exactly its daily files' rows", async () => {
    const res = await fetch(archiveUrl(rig.sim.archiveUrl, archiveZipPath(monthly("trades"))));
    expect(res.status).toBe(200);
    const e = zipEntry(new Uint8Array(await res.arrayBuffer()), "month");
    expect(e).toMatchObject({ name: `${SYMBOL}-trades-${MONTH}.csv`, zip64: true, descriptor64: true });
    expect(await archiveLines(rig.sim.archiveUrl, monthly("trades"))).toEqual(
      await truth("trades", `${MONTH}-01`),
    );
  });

  test(
    "a whole past month lands from its monthly file, a partial one from daily files: every id once; re-runs skip",
    () =>
      withDir("k2-backfill-month-", async (dataDir) => {
        const first = await backfill(dataDir, []);
        expect(first.code).toBe(0);
        expect(first.lines[0]).toMatch(/6 archive files .*\(period auto\)/);
        // 2 January days × 2 tables daily, February × 2 tables monthly.
        expect(first.files.length).toBe(6);
        for (const table of ["trades", "agg_trades"])
          expect(first.out).toMatch(
            new RegExp(
              `${SYMBOL} ${table} ${MONTH}: landed \\d{5,} rows \\(\\d+ new, 0 already stored\\) in \\d+ files`,
            ),
          );
        expect(first.out).toMatch(/k2 backfill: 6 landed, 0 already landed, 0 failed; /);
        await expectStoredOnce(dataDir, ["trades", "agg_trades"]);
        // The month's rows sit in their day partitions, one per day of February.
        const feb = readdirSync(join(dataDir, "trades")).filter((d) => d.startsWith(`date=${MONTH}`));
        expect(feb.length).toBe(28);
        // One journal line per day (the owner adopts by day), the last one the file's own.
        const lines = journal(dataDir).filter((l) => l.path === archiveZipPath(monthly("trades")));
        expect(lines.map((l) => l.date)).toEqual(daysBetween(`${MONTH}-01`, `${MONTH}-28`));
        expect(lines.map((l) => l.part === true)).toEqual([...Array(27).fill(true), false]);
        // A running owner adopts every file by those lines: all 30 days of each table, every row.
        const adopted = await new BackfillAdopter(new Catalog(), dataDir).pass();
        expect(adopted.length).toBe(filesUnder(dataDir).length);
        for (const table of ["trades", "agg_trades"] as const) {
          const mine = adopted.filter((f) => f.table === table);
          expect(new Set(mine.map((f) => f.date)).size).toBe(30);
          expect(mine.reduce((n, f) => n + f.rows, 0)).toBe((await truth(table)).length);
        }

        const files = filesUnder(dataDir);
        const again = await backfill(dataDir, []);
        expect(again.code).toBe(0);
        for (const l of again.files)
          expect(l).toMatch(/: already landed \(sha256 [0-9a-f]{12}…\), nothing to do$/);
        // The daily files of February are skipped for the monthly file that landed, unread.
        const asDays = await backfill(dataDir, ["--period", "daily"], `${MONTH}-01`, `${MONTH}-28`);
        expect(asDays.code).toBe(0);
        expect(asDays.files.length).toBe(56);
        for (const l of asDays.files)
          expect(l).toMatch(/: already landed \(its month's monthly file\), nothing to do$/);
        expect(filesUnder(dataDir)).toEqual(files);

        // Without the journal the month is read again and every row found stored: nothing written.
        rmSync(join(dataDir, STATE_DIR, "landed.jsonl"));
        const blind = await backfill(
          dataDir,
          ["--period", "monthly", "--tables", "trades"],
          `${MONTH}-01`,
          `${MONTH}-28`,
        );
        expect(blind.code).toBe(0);
        expect(blind.files.length).toBe(1);
        expect(blind.files[0]).toMatch(/: landed (\d+) rows \(0 new, \1 already stored\) in 0 files/);
        expect(filesUnder(dataDir)).toEqual(files);
      }),
    15_000,
  );

  test(
    "a missing or corrupt monthly file falls back to its daily files (auto), fails the month (monthly)",
    () =>
      withDir("k2-backfill-month-", async (dataDir) => {
        rig.sim.faults.archive(monthly("trades"), "missing");
        rig.sim.faults.archive(monthly("agg_trades"), "truncated");
        try {
          const strict = await backfill(dataDir, ["--period", "monthly"], `${MONTH}-01`, `${MONTH}-28`);
          expect(strict.code).toBe(1);
          expect(strict.out).toMatch(
            new RegExp(`${SYMBOL} trades ${MONTH}: FAILED not_found, skipped, nothing written`),
          );
          expect(strict.out).toMatch(
            new RegExp(`${SYMBOL} agg_trades ${MONTH}: FAILED corrupt_zip, skipped, nothing written`),
          );
          expect(filesUnder(dataDir)).toEqual([]);

          const auto = await backfill(dataDir, [], `${MONTH}-01`, `${MONTH}-28`);
          expect(auto.code).toBe(0);
          expect(auto.out).toMatch(
            new RegExp(
              `${SYMBOL} trades ${MONTH}: monthly file FAILED not_found, nothing written, reading its 28 daily files instead`,
            ),
          );
          expect(auto.out).toMatch(
            new RegExp(`${SYMBOL} agg_trades ${MONTH}: monthly file FAILED corrupt_zip`),
          );
          expect(auto.files.filter((l) => / \d{4}-\d{2}-\d{2}: landed /.test(l)).length).toBe(56);
          expect(auto.out).toMatch(
            /k2 backfill: 56 landed, 0 already landed, 0 failed \(2 monthly files fell back to daily files\); /,
          );
          await expectStoredOnce(dataDir, ["trades", "agg_trades"], `${MONTH}-01`, `${MONTH}-28`);
        } finally {
          rig.sim.faults.archive(monthly("trades"), "none");
          rig.sim.faults.archive(monthly("agg_trades"), "none");
        }
        // The monthly files are back: their days all landed from daily files, so they are skipped.
        const files = filesUnder(dataDir);
        const again = await backfill(dataDir, ["--period", "monthly"], `${MONTH}-01`, `${MONTH}-28`);
        expect(again.code).toBe(0);
        expect(again.files.length).toBe(2);
        for (const l of again.files)
          expect(l).toMatch(/: already landed \(every day's daily file\), nothing to do$/);
        expect(filesUnder(dataDir)).toEqual(files);
        expect(existsSync(join(dataDir, STATE_DIR, "staging"))).toBe(false);
      }),
    15_000,
  );
});
