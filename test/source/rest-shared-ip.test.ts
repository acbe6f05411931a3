/**
 * Several K2 processes behind one IP (a host's recorders and writers, each repairing gaps) share
 * Binance's weight budget without being told about each other: each reads the IP's usage from
 * X-MBX-USED-WEIGHT-1M after every answer and keeps under 90 % of it, so together they stay under
 * the limit with each one set to the whole of it. Three real processes against the simulator's
 * per-IP accounting, windows shortened to 1 s (the simulator and the clients both).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";

const LIMIT = 6000; // Binance's, per IP and window
const WINDOW_MS = 1000;
const RUN_MS = 3500;
const PROCESSES = 3;

test("three processes, each with the whole IP budget, never earn a 429 together and use most of it", async () => {
  let sim: Simulator | undefined;
  let procs: Bun.Subprocess<"ignore", "pipe", "inherit">[] = [];
  try {
    sim = await startSimulator({
      symbols: ["BTCUSDT"],
      ratePerSec: 50,
      restWeightLimit: LIMIT,
      restWeightWindowMs: WINDOW_MS,
    });
    const script = join(import.meta.dir, "../support/rest-neighbour.ts");
    const args = [sim.restUrl, String(LIMIT), String(WINDOW_MS), String(RUN_MS)];
    procs = Array.from({ length: PROCESSES }, () =>
      Bun.spawn([process.execPath, script, ...args], { stdout: "pipe", stderr: "inherit" }),
    );
    const results = await Promise.all(
      procs.map(async (p) => {
        const out = await new Response(p.stdout).text();
        expect(await p.exited).toBe(0);
        return JSON.parse(out.trim().split("\n").at(-1)!) as {
          ok: number;
          rateLimited: number;
          bans: number;
        };
      }),
    );
    const log = sim.restLog().filter((e) => e.path.startsWith("/api/v3/historicalTrades"));
    expect(log.filter((e) => e.status !== 200).map((e) => `${e.status} ${e.verdict}`)).toEqual([]);
    expect(results.map((r) => r.rateLimited + r.bans)).toEqual(results.map(() => 0));
    // Every process got its share in, and together they used most of what the IP had: being
    // this careful must not mean idling (weight 25 each; 90 % of the limit per full window).
    for (const r of results) expect(r.ok).toBeGreaterThan(10);
    const byWindow = new Map<number, number>();
    for (const e of log) {
      const w = Math.floor(e.atUs / 1000 / WINDOW_MS);
      byWindow.set(w, (byWindow.get(w) ?? 0) + e.weight);
    }
    const windows = [...byWindow.keys()].sort((a, b) => a - b);
    const full = windows.slice(1, -1); // the first and last windows are only partly in the run
    expect(full.length).toBeGreaterThanOrEqual(1);
    for (const w of full) expect(byWindow.get(w)!).toBeGreaterThanOrEqual(0.75 * LIMIT);
    for (const w of windows) expect(byWindow.get(w)!).toBeLessThanOrEqual(LIMIT);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill();
    await sim?.stop();
  }
}, 30_000);
