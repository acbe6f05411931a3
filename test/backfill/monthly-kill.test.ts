/**
 * `k2 backfill` as its own process, killed with SIGKILL while a monthly file is half staged
 * (its rows already cut into staged files of several February days), then run again: while it
 * was dead nothing of the month was visible and no id was stored twice; the re-run reads the
 * month again, skips what landed before, and every row is stored exactly once.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchiveFile } from "../../src/archive/index.ts";
import { daysBetween, STATE_DIR } from "../../src/backfill/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { waitUntil } from "../support/wait.ts";
import { archiveLines, filesUnder, spawnBackfill, storedLines } from "./archive-rig.ts";
import { monthSimPerFile } from "./month-rig.ts";

const SYMBOL = "BTCUSDT";
const FROM = "2025-01-31";
const TO = "2025-02-28";
const rig = monthSimPerFile([SYMBOL]);

/** Trades only, one file at a time, small batches: the month stages ~100 files, one by one. */
const ARGS = [
  "--symbols",
  SYMBOL,
  "--from",
  FROM,
  "--to",
  TO,
  "--tables",
  "trades",
  "--concurrency",
  "1",
  "--batch-rows",
  "500",
];

/** Distinct February partition dates among `files` (paths holding `date=2025-02-DD`). */
function febDays(files: string[]): number {
  return new Set(files.map((f) => /date=(2025-02-\d\d)/.exec(f)?.[1]).filter((d) => d !== undefined)).size;
}

test("SIGKILL mid-month, then a re-run: nothing of the month was visible, every row stored exactly once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-backfill-month-kill-"));
  try {
    const { proc: p, stderr } = spawnBackfill([...ARGS, "--data-dir", dataDir], {
      K2_ARCHIVE_URL: rig.sim.archiveUrl,
    });
    // Kill it mid-month: January's last day landed, the monthly file staged into 3+ days.
    const staging = join(dataDir, STATE_DIR, "staging");
    await waitUntil(
      () => /2025-01-31: landed /.test(stderr()) && febDays(filesUnder(staging)) >= 3,
      20_000,
      "the monthly file staged into several days",
      { detail: stderr, everyMs: 1 },
    );
    p.kill("SIGKILL");
    await p.exited;
    expect(stderr()).not.toMatch(/2025-02: landed/); // killed before the month committed

    // What a reader sees now: January's day, none of February, whole files, no id twice.
    const visible = filesUnder(dataDir).filter((f) => !f.startsWith(STATE_DIR));
    expect(visible.length).toBeGreaterThan(0);
    expect(febDays(visible)).toBe(0);
    expect(visible.every((f) => f.endsWith(".parquet") && !f.includes(".tmp-"))).toBe(true);
    const before = await storedLines(dataDir, "trades", SYMBOL);
    expect(before.rows).toBe(before.distinct);

    const lines: string[] = [];
    const code = await runBackfillCli([...ARGS, "--data-dir", dataDir], {
      env: { K2_ARCHIVE_URL: rig.sim.archiveUrl },
      isTty: false,
      out: () => {},
      error: (l) => lines.push(l),
    });
    const out = lines.join("\n");
    expect(code).toBe(0);
    expect(out).toMatch(/BTCUSDT trades 2025-01-31: already landed /);
    expect(out).toMatch(/BTCUSDT trades 2025-02: landed \d+ rows \(\d+ new, 0 already stored\)/);
    const want: string[] = [];
    for (const date of daysBetween(FROM, TO)) {
      const f: ArchiveFile = { dataset: "trades", period: "daily", symbol: SYMBOL, date };
      want.push(...(await archiveLines(rig.sim.archiveUrl, f)));
    }
    const got = await storedLines(dataDir, "trades", SYMBOL);
    expect(got.rows).toBe(got.distinct);
    expect(got.lines).toEqual(want);
    expect(filesUnder(join(dataDir, STATE_DIR))).toEqual([]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
