/**
 * `k2 backfill --source rest` as its own process, killed with SIGKILL in the middle of a day
 * (one day landed, the next with a page of rows staged and its second page on its way), then run
 * again: while it was dead no half-written file was visible and no id stored twice; the re-run
 * skips the day that landed, reads the other again, and every row is stored exactly once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STATE_DIR } from "../../src/backfill/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { waitUntil } from "../support/wait.ts";
import { archiveLines, closeReader, filesUnder, spawnBackfill, storedLines } from "./archive-rig.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const DATE = "2025-01-01";
/** Each REST answer comes this late through the proxy: the run can be killed between two pages. */
const REST_DELAY_MS = 150;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    symbols: SYMBOLS,
    startTimeMs: Date.UTC(2025, 0, 2, 6),
    archiveDays: 2,
    archiveRatePerSec: 0.02,
    ratePerSec: 5,
    startTradeId: 0,
    startAggId: 0,
  });
});
afterAll(() => {
  sim.stop();
  closeReader();
});

// A day of trades is two pages (1728 rows); 100-row files: the first page stages 10 of them.
const ARGS = [
  "--source",
  "rest",
  "--symbols",
  SYMBOLS.join(","),
  "--tables",
  "trades",
  "--from",
  DATE,
  "--to",
  DATE,
  "--concurrency",
  "1",
  "--batch-rows",
  "100",
];

test("SIGKILL mid-day, then a re-run: nothing half-written was visible, every row stored exactly once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-backfill-rest-kill-"));
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      await Bun.sleep(REST_DELAY_MS);
      const res = await fetch(`${sim.restUrl}${u.pathname}${u.search}`, { headers: req.headers });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    },
  });
  try {
    const { proc: p, stderr } = spawnBackfill([...ARGS, "--data-dir", dataDir], {
      K2_BINANCE_REST_URL: `http://127.0.0.1:${proxy.port}`,
    });
    const staging = join(dataDir, STATE_DIR, "staging");
    await waitUntil(
      () =>
        /BTCUSDT trades \S+: landed /.test(stderr()) &&
        filesUnder(staging).some((f) => f.endsWith(".parquet")),
      20_000,
      "one day landed and the next one's first page staged",
      { detail: stderr, everyMs: 1 },
    );
    p.kill("SIGKILL");
    await p.exited;
    expect(stderr()).not.toMatch(/ETHUSDT trades \S+: landed/); // killed inside the second day
    expect(filesUnder(staging).length).toBeGreaterThan(0);

    // What a reader sees now: whole files only, every id once, the killed day not at all.
    const visible = filesUnder(dataDir).filter((f) => !f.startsWith(STATE_DIR));
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((f) => f.endsWith(".parquet") && !f.includes(".tmp-"))).toBe(true);
    const btc = await storedLines(dataDir, "trades", "BTCUSDT");
    expect(btc.rows).toBe(btc.distinct);
    expect((await storedLines(dataDir, "trades", "ETHUSDT")).rows).toBe(0);

    // The re-run, in this process (the CLI's same entry), straight to the simulator.
    const lines: string[] = [];
    const code = await runBackfillCli([...ARGS, "--data-dir", dataDir], {
      env: { K2_BINANCE_REST_URL: sim.restUrl },
      isTty: false,
      out: () => {},
      error: (l) => lines.push(l),
    });
    const out = lines.join("\n");
    expect(code).toBe(0);
    expect(out).toContain("BTCUSDT trades 2025-01-01: already landed");
    expect(out).toMatch(/ETHUSDT trades 2025-01-01: landed (\d+) rows \(\1 new, 0 already stored\)/);
    for (const symbol of SYMBOLS) {
      const f = { dataset: "trades", period: "daily", symbol, date: DATE } as const;
      const got = await storedLines(dataDir, "trades", symbol);
      expect(got.rows).toBe(got.distinct);
      expect(got.lines).toEqual(await archiveLines(sim.archiveUrl, f));
    }
    expect(filesUnder(join(dataDir, STATE_DIR))).toEqual([]);
  } finally {
    proxy.stop(true);
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 30_000);
