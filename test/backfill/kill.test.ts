/**
 * `k2 backfill` as its own process, killed with SIGKILL in the middle of a run, then run again:
 * (one archive file landed, the next half staged) while it was dead no half-written file was visible and no id stored twice; the second run
 * finishes the rest (skipping what landed) and every row is stored exactly once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchiveFile } from "../../src/archive/index.ts";
import { STATE_DIR } from "../../src/backfill/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { waitUntil } from "../support/wait.ts";
import {
  archiveLines,
  closeReader,
  filesUnder,
  spawnBackfill,
  startArchiveSim,
  storedLines,
} from "./archive-rig.ts";

const SYMBOLS = ["BTCUSDT"];
const DATES = ["2024-12-31", "2025-01-01"];
const DATASET = { trades: "trades", agg_trades: "aggTrades" } as const;
/** Each zip answers this late through the proxy: the run lasts long enough to be killed in it. */
const ZIP_DELAY_MS = 200;
let sim: Simulator;

beforeAll(async () => {
  sim = await startArchiveSim(SYMBOLS);
});
afterAll(() => {
  sim.stop();
  closeReader();
});

const ARGS = [
  "--symbols",
  SYMBOLS.join(","),
  "--from",
  DATES[0]!,
  "--to",
  DATES[1]!,
  "--concurrency",
  "1",
  "--batch-rows",
  "500",
];

test("SIGKILL mid-run, then a re-run: nothing half-written was visible, every row stored exactly once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-backfill-kill-"));
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path.endsWith(".zip")) await Bun.sleep(ZIP_DELAY_MS);
      const res = await fetch(`${sim.archiveUrl}${path}`);
      return new Response(await res.arrayBuffer(), { status: res.status });
    },
  });
  try {
    const { proc: p, stderr } = spawnBackfill([...ARGS, "--data-dir", dataDir], {
      K2_ARCHIVE_URL: `http://127.0.0.1:${proxy.port}`,
    });
    // Kill it while an archive file is half read: one file landed, the next has staged files.
    const staging = join(dataDir, STATE_DIR, "staging");
    await waitUntil(
      () => /: landed /.test(stderr()) && filesUnder(staging).some((f) => f.endsWith(".parquet")),
      20_000,
      "a file landed and the next one half staged",
      { detail: stderr, everyMs: 1 },
    );
    p.kill("SIGKILL");
    await p.exited;
    expect(stderr()).not.toMatch(/k2 backfill: \d+ landed/); // killed before its summary: mid-run

    // What a reader sees now: whole files only, no id twice, nothing staged in the table folders.
    const visible = filesUnder(dataDir).filter((f) => !f.startsWith(STATE_DIR));
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((f) => f.endsWith(".parquet") && !f.includes(".tmp-"))).toBe(true);
    for (const table of ["trades", "agg_trades"] as const)
      for (const s of SYMBOLS) {
        const got = await storedLines(dataDir, table, s);
        expect(got.rows).toBe(got.distinct);
      }

    // The re-run (in this process: the CLI's same entry, without a second process start).
    const lines: string[] = [];
    const code = await runBackfillCli([...ARGS, "--data-dir", dataDir], {
      env: { K2_ARCHIVE_URL: sim.archiveUrl },
      isTty: false,
      out: () => {},
      error: (l) => lines.push(l),
    });
    const out = lines.join("\n");
    expect(code).toBe(0);
    expect(out.match(/: already landed /g)?.length).toBeGreaterThanOrEqual(1);
    expect(out).toMatch(/k2 backfill: \d+ landed, \d+ already landed, 0 failed; /);
    for (const table of ["trades", "agg_trades"] as const)
      for (const s of SYMBOLS) {
        const want: string[] = [];
        for (const date of DATES) {
          const f: ArchiveFile = { dataset: DATASET[table], period: "daily", symbol: s, date };
          want.push(...(await archiveLines(sim.archiveUrl, f)));
        }
        const got = await storedLines(dataDir, table, s);
        expect(got.rows).toBe(got.distinct);
        expect(got.lines).toEqual(want);
      }
    expect(filesUnder(join(dataDir, STATE_DIR))).toEqual([]);
  } finally {
    proxy.stop(true);
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
