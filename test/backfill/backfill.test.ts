/**
 * `k2 backfill` against the simulator's archive over HTTP on 127.0.0.1, read back with DuckDB:
 * every row once, equal to the archive's CSV; each archive fault reported and skipped with
 * nothing written; re-runs write nothing new; rows stored before are not written again; a file
 * that breaks mid-read leaves nothing; bad arguments get one sentence and exit 2.
 * (SIGKILL mid-run: kill.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ArchiveCsvParser, archiveChecksumPath, archiveZipPath } from "../../src/archive/index.ts";
import { type BackfillTable, planJobs, runBackfill, STATE_DIR } from "../../src/backfill/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { allocRowColumns } from "../../src/model/index.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { appendRow, createBatch, dayOfUs, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import {
  archiveLines,
  archiveZip,
  closeReader,
  dailyFile,
  filesUnder,
  serveArchive,
  startArchiveSim,
  storedLines,
  withDir,
} from "./archive-rig.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const DATES = ["2024-12-31", "2025-01-01"]; // ms times, then µs times
const TABLES: BackfillTable[] = ["trades", "agg_trades"];
let sim: Simulator;

beforeAll(async () => {
  sim = await startArchiveSim(SYMBOLS);
});
afterAll(() => {
  sim.stop();
  closeReader();
});

const file = dailyFile;

/** `k2 backfill` in this process: exit code and its stderr lines. */
async function backfill(dataDir: string, extra: string[] = [], root = sim.archiveUrl) {
  const lines: string[] = [];
  const code = await runBackfillCli(
    [
      "--symbols",
      SYMBOLS.join(","),
      "--from",
      DATES[0]!,
      "--to",
      DATES[1]!,
      "--data-dir",
      dataDir,
      "--batch-rows",
      "4096",
      ...extra,
    ],
    { env: { K2_ARCHIVE_URL: root }, isTty: false, out: () => {}, error: (l) => lines.push(l) },
  );
  return { code, lines, files: lines.filter((l) => /^[A-Z0-9]+ (trades|agg_trades) \d{4}-/.test(l)) };
}

/** Every (table, symbol): stored exactly once and equal, line for line, to the archive's days. */
async function expectAllStoredOnce(dataDir: string): Promise<void> {
  for (const table of TABLES)
    for (const symbol of SYMBOLS) {
      const want: string[] = [];
      for (const date of DATES) want.push(...(await archiveLines(sim.archiveUrl, file(table, symbol, date))));
      const got = await storedLines(dataDir, table, symbol);
      expect(got.rows).toBe(got.distinct);
      expect(got.lines.length).toBe(want.length);
      expect(got.lines).toEqual(want);
    }
}

describe("k2 backfill from the simulator's archive", () => {
  test(
    "a clean range lands every row exactly once; re-runs write nothing new",
    () =>
      withDir("k2-backfill-", async (dataDir) => {
        const first = await backfill(dataDir);
        expect(first.code).toBe(0);
        expect(first.files.length).toBe(8);
        for (const l of first.files)
          expect(l).toMatch(/: landed \d+ rows \(\d+ new, 0 already stored\) in [1-9]\d* files?,/);
        expect(first.lines.at(-1)).toMatch(/^k2 backfill: 8 landed, 0 already landed, 0 failed; /);
        await expectAllStoredOnce(dataDir);
        const files = filesUnder(dataDir);
        expect(files.every((f) => f.endsWith("-backfill.parquet") && !f.startsWith(STATE_DIR))).toBe(true);

        // Landed files are skipped by checksum ...
        const again = await backfill(dataDir);
        expect(again.code).toBe(0);
        for (const l of again.files)
          expect(l).toMatch(/: already landed \(sha256 [0-9a-f]{12}…\), nothing to do$/);
        expect(filesUnder(dataDir)).toEqual(files);
        // ... and without the journal every id is found stored: read again, nothing written.
        rmSync(join(dataDir, STATE_DIR, "landed.jsonl"));
        const reread = await backfill(dataDir);
        expect(reread.code).toBe(0);
        for (const l of reread.files)
          expect(l).toMatch(/: landed (\d+) rows \(0 new, \1 already stored\) in 0 files,/);
        expect(filesUnder(dataDir)).toEqual(files);
        await expectAllStoredOnce(dataDir);
      }),
    30_000,
  );

  test(
    "a local copy of the archive (file://) lands the same rows; a file missing from the copy is not_found",
    () =>
      withDir("k2-backfill-", async (dataDir) => {
        const mirror = join(dataDir, "..", `${dataDir.split("/").at(-1)}-mirror`);
        const missing = archiveZipPath(file("trades", "ETHUSDT", DATES[1]!));
        try {
          for (const table of TABLES)
            for (const symbol of SYMBOLS)
              for (const date of DATES)
                for (const path of [archiveZipPath, archiveChecksumPath].map((p) =>
                  p(file(table, symbol, date)),
                )) {
                  if (path === missing) continue;
                  const res = await fetch(`${sim.archiveUrl}/${path}`);
                  expect(res.status).toBe(200);
                  mkdirSync(join(mirror, path, ".."), { recursive: true });
                  writeFileSync(join(mirror, path), new Uint8Array(await res.arrayBuffer()));
                }
          const r = await backfill(dataDir, [], `file://${mirror}`);
          expect(r.code).toBe(1);
          expect(r.files.find((l) => l.startsWith(`ETHUSDT trades ${DATES[1]}:`))).toMatch(
            /FAILED not_found, skipped, nothing written: .*no such file/,
          );
          expect(r.lines.at(-1)).toMatch(/^k2 backfill: 7 landed, 0 already landed, 1 failed; /);
          for (const table of TABLES)
            for (const symbol of SYMBOLS) {
              const want: string[] = [];
              for (const date of DATES)
                if (archiveZipPath(file(table, symbol, date)) !== missing)
                  want.push(...(await archiveLines(sim.archiveUrl, file(table, symbol, date))));
              const got = await storedLines(dataDir, table, symbol);
              expect(got.rows).toBe(got.distinct);
              expect(got.lines).toEqual(want);
            }
        } finally {
          rmSync(mirror, { recursive: true, force: true });
        }
      }),
    30_000,
  );

  test(
    "missing day, wrong checksum, truncated zip: reported and skipped, nothing written; a replaced file adds its new row once",
    () =>
      withDir("k2-backfill-", async (dataDir) => {
        const faults: [BackfillTable, string, string, "missing" | "badChecksum" | "truncated" | "stale"][] = [
          ["trades", "BTCUSDT", "2024-12-31", "missing"],
          ["trades", "ETHUSDT", "2024-12-31", "badChecksum"],
          ["agg_trades", "BTCUSDT", "2025-01-01", "truncated"],
          ["agg_trades", "ETHUSDT", "2025-01-01", "stale"],
        ];
        for (const [t, s, d, f] of faults) sim.faults.archive(file(t, s, d), f);
        try {
          const r = await backfill(dataDir);
          expect(r.code).toBe(1);
          const line = (t: string, s: string, d: string) =>
            r.files.find((l) => l.startsWith(`${s} ${t} ${d}:`));
          expect(line("trades", "BTCUSDT", "2024-12-31")).toMatch(
            /FAILED not_found, skipped, nothing written: .*404/,
          );
          expect(line("trades", "ETHUSDT", "2024-12-31")).toMatch(
            /FAILED checksum_mismatch, skipped, nothing written/,
          );
          expect(line("agg_trades", "BTCUSDT", "2025-01-01")).toMatch(
            /FAILED corrupt_zip, skipped, nothing written/,
          );
          expect(line("agg_trades", "ETHUSDT", "2025-01-01")).toMatch(/: landed \d+ rows/);
          expect(r.lines.at(-1)).toMatch(/^k2 backfill: 5 landed, 0 already landed, 3 failed; /);
          // Nothing of the failed files anywhere: not in their partitions, not left staged.
          const all = filesUnder(dataDir);
          expect(
            all.filter((p) => p.includes("date=2024-12-31/symbol=BTCUSDT") && p.startsWith("trades")),
          ).toEqual([]);
          expect(
            all.filter((p) => p.includes("date=2024-12-31/symbol=ETHUSDT") && p.startsWith("trades")),
          ).toEqual([]);
          expect(
            all.filter((p) => p.includes("date=2025-01-01/symbol=BTCUSDT") && p.startsWith("agg")),
          ).toEqual([]);
          expect(filesUnder(join(dataDir, STATE_DIR))).toEqual([]);
          const stale = await storedLines(dataDir, "agg_trades", "ETHUSDT");
          expect(stale.rows).toBe(
            sim.archiveTruth().rows("aggTrades", "ETHUSDT", "2024-12-31") +
              sim.archiveTruth().rows("aggTrades", "ETHUSDT", "2025-01-01") -
              1,
          );
        } finally {
          for (const [t, s, d] of faults) sim.faults.archive(file(t, s, d), "none");
        }
        // Faults cleared (the stale file replaced): the failed three land, the replaced one adds its last row.
        const r = await backfill(dataDir);
        expect(r.code).toBe(0);
        expect(r.files.filter((l) => l.includes("already landed")).length).toBe(4);
        expect(r.files.find((l) => l.startsWith("ETHUSDT agg_trades 2025-01-01:"))).toMatch(
          /landed (\d+) rows \(1 new, \d+ already stored\) in 1 file/,
        );
        await expectAllStoredOnce(dataDir);
      }),
    30_000,
  );

  test(
    "rows stored before (live, that day and past midnight in the next day's partition) are not written again",
    () =>
      withDir("k2-backfill-", async (dataDir) => {
        const f = file("trades", "BTCUSDT", "2024-12-31");
        // Rows as live ingest stores them: event time a few ms after trade time, the same writer.
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
        expect(n).toBeGreaterThan(1000); // slots 500..999 and the last three are real, distinct rows
        const pool = await ParquetWriterPool.start({ dataDir });
        const dayEndUs = (dayOfUs(rows.event_time_us[0]!) + 1) * 86_400_000_000;
        const middle = createBatch(
          { table: "trades", symbol: "BTCUSDT", symbolId: 0, day: "2024-12-31" },
          500,
        );
        for (let i = 500; i < 1000; i++) {
          rows.event_time_us[i] = rows.event_time_us[i]! + 5000;
          expect(appendRow(middle, rows, i)).toBe(0);
        }
        // The day's last three trades, received after midnight: stored under 2025-01-01.
        const late = createBatch({ table: "trades", symbol: "BTCUSDT", symbolId: 0, day: "2025-01-01" }, 3);
        for (let i = n - 3; i < n; i++) {
          rows.event_time_us[i] = dayEndUs + 1000 + i - n;
          expect(appendRow(late, rows, i)).toBe(0);
        }
        await pool.write(middle);
        await pool.write(late);
        await pool.close();

        const r = await backfill(dataDir, ["--tables", "trades", "--symbols=BTCUSDT"].slice(0, 2));
        const line = r.files.find((l) => l.startsWith("BTCUSDT trades 2024-12-31:"));
        expect(line).toMatch(new RegExp(`: landed ${n} rows \\(${n - 503} new, 503 already stored\\)`));
        const want = [
          ...(await archiveLines(sim.archiveUrl, f)),
          ...(await archiveLines(sim.archiveUrl, file("trades", "BTCUSDT", "2025-01-01"))),
        ];
        const got = await storedLines(dataDir, "trades", "BTCUSDT");
        expect(got.rows).toBe(got.distinct);
        expect(got.lines).toEqual(want);
      }),
    30_000,
  );

  test(
    "a file that breaks mid-read (a bad line after many staged rows) leaves nothing behind",
    () =>
      withDir("k2-backfill-", async (dataDir) => {
        const f = file("trades", "BTCUSDT", "2024-12-31");
        const t0 = Date.UTC(2024, 11, 31);
        const lines: string[] = [];
        for (let i = 1; i <= 30_000; i++)
          lines.push(`${i},97000.00000000,0.00100000,97.00000000,${t0 + i},True,True`);
        lines.push("30001,97000.00000000,oops,97.00000000,1735603300000,True,True");
        const { zip, checksum } = archiveZip(f, `${lines.join("\n")}\n`);
        const server = serveArchive(
          new Map<string, Uint8Array | string>([
            [archiveZipPath(f), zip],
            [archiveChecksumPath(f), checksum],
          ]),
        );
        let stagedSeen = 0;
        try {
          const s = await runBackfill({
            dataDir,
            archiveUrl: server.url,
            jobs: planJobs(["BTCUSDT"], ["trades"], f.date, f.date),
            concurrency: 1,
            batchRows: 3000,
            onRows: () => {
              stagedSeen = Math.max(stagedSeen, filesUnder(join(dataDir, STATE_DIR)).length);
            },
          });
          expect(s.failed).toBe(1);
          expect(s.outcomes[0]!.error?.message).toMatch(/line 30001.*qty|qty.*line 30001/);
        } finally {
          server.stop();
        }
        expect(stagedSeen).toBeGreaterThan(0); // rows had been written to staged files ...
        expect(filesUnder(dataDir)).toEqual([]); // ... and none of them is anywhere now
        expect(existsSync(join(dataDir, "trades"))).toBe(false);
      }),
    30_000,
  );

  test(
    "bad arguments: one sentence on stderr, exit 2, nothing created",
    () =>
      withDir("k2-backfill-", async (parent) => {
        const dataDir = join(parent, "never");
        const cases: [string[], RegExp][] = [
          [[], /--symbols is required/],
          [["--symbols", "BTCUSDT", "--from", "2025-01-02"], /--to is required/],
          [
            ["--symbols", "BTC-USDT", "--from", "2025-01-01", "--to", "2025-01-02"],
            /--symbols: expected comma-separated symbols/,
          ],
          [
            ["--symbols", "BTCUSDT", "--from", "2025-02-30", "--to", "2025-03-02"],
            /--from: expected a calendar date YYYY-MM-DD, got "2025-02-30"/,
          ],
          [
            ["--symbols", "BTCUSDT", "--from", "2025-01-03", "--to", "2025-01-02"],
            /--to \(2025-01-02\) is before --from \(2025-01-03\)/,
          ],
          [
            ["--symbols", "BTCUSDT", "--from", "2025-01-01", "--to", "2025-01-02", "--tables", "quotes"],
            /--tables: expected some of trades,agg_trades/,
          ],
          [
            [
              "--symbols",
              "BTCUSDT",
              "--from",
              "2025-01-01",
              "--to",
              "2025-01-02",
              "--source",
              "rest",
              "--rest-weight",
              "0",
            ],
            /--rest-weight: expected an integer 1\.\.6000/,
          ],
          [
            ["--symbols", "BTCUSDT", "--from", "2025-01-01", "--to", "2025-01-02", "--source", "ftp"],
            /--source: expected archive or rest, got "ftp"/,
          ],
          [
            ["--symbols", "BTCUSDT", "--from", "2025-01-01", "--to", "2025-01-02", "--concurrency", "0"],
            /--concurrency: expected an integer 1\.\.8/,
          ],
          [
            [
              "--symbols",
              "BTCUSDT",
              "--from",
              "2025-01-01",
              "--to",
              "2025-01-02",
              "--archive-url",
              "ftp://x",
            ],
            /--archive-url: expected a URL with scheme http or https/,
          ],
          [
            ["--symbols", "BTCUSDT", "--from", "2025-01-01", "--to", "2025-01-02", "--bogus", "1"],
            /unknown flag --bogus/,
          ],
        ];
        for (const [argv, want] of cases) {
          const errors: string[] = [];
          const code = await runBackfillCli([...argv, "--data-dir", dataDir], {
            env: {},
            isTty: false,
            out: () => {},
            error: (l) => errors.push(l),
          });
          expect(code).toBe(2);
          expect(errors[0]).toMatch(want);
          expect(errors[0]).toStartWith("k2 backfill: ");
          expect(errors[0]).not.toContain("\n");
        }
        expect(existsSync(dataDir)).toBe(false);
      }),
    30_000,
  );

  test(
    "a second backfill on the same data folder is refused while the first runs",
    () =>
      withDir("k2-backfill-", async (dataDir) => {
        const other = Bun.spawn(["sleep", "30"]);
        try {
          mkdirSync(join(dataDir, STATE_DIR));
          writeFileSync(join(dataDir, STATE_DIR, "lock"), String(other.pid));
          const r = await backfill(dataDir);
          expect(r.code).toBe(2);
          expect(r.lines.at(-1)).toBe(
            `k2 backfill: another backfill (pid ${other.pid}) is running on ${dataDir}; wait for it or stop it first`,
          );
          expect(readdirSync(dataDir)).toEqual([STATE_DIR]);
        } finally {
          other.kill();
        }
      }),
    30_000,
  );
});
