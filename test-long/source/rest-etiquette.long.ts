/**
 * REST etiquette, judged from the simulator's request log (what arrived, when, and the verdict
 * behind each answer), not from "repair completed eventually": K2's repair client sends nothing
 * while a Retry-After runs (so never earns a strike or a ban), waits out a 418, backs off on 5xx,
 * and keeps its own weight budget per window. Binance's window is a minute; here the simulator's
 * window and the client's are both 2 s (weightWindowMs), so a test sees several windows.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { RestLogEntry } from "../../src/sim/index.ts";
import { wholeTruth } from "../../test/support/bounded-run.ts";
import { type Harness, startHarness } from "../../test/support/source-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const WINDOW_MS = 2000;
/** The simulator stamps arrival on its own clock, K2 waits on Date.now(): allow their skew. */
const CLOCK_SKEW_US = 2_000;

const count = (hh: Harness) => hh.seen.get("trades:BTCUSDT")?.length ?? 0;

/**
 * Withhold `n` trades from the socket (REST still has them), then wait until all are repaired —
 * or until the request log shows a breach of etiquette, so a breach fails with the log lines that
 * show it rather than with a timeout (a client that ignores Retry-After ends up banned).
 */
async function gapThenRepair(hh: Harness, n: number, timeoutMs: number) {
  await hh.waitFor(() => count(hh) >= 20, 5000, "first trades");
  hh.sim.faults.skipTradeIds(n, "BTCUSDT");
  const target = count(hh) + n + 50;
  const breached = () => hh.sim.restLog().some((e) => e.verdict === "in_backoff" || e.verdict === "banned");
  await hh.waitFor(
    () => breached() || (count(hh) >= target && hh.repairer.backlog === 0),
    timeoutMs,
    `${n} withheld trades repaired`,
  );
  expect(requestsInsideRetryAfter(hh.sim.restLog())).toEqual([]);
  expect(hh.sim.restLog().filter((e) => e.verdict === "in_backoff" || e.verdict === "banned")).toEqual([]);
  await hh.catchUp();
  expect(hh.ids("trades", "BTCUSDT")).toEqual(wholeTruth(hh.sim, "trades", "BTCUSDT"));
  expect(hh.repeats).toEqual([]);
  hh.resume();
}

/** Every request that followed an answer carrying Retry-After came after it ran out. */
function requestsInsideRetryAfter(log: RestLogEntry[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i + 1 < log.length; i++) {
    const e = log[i]!;
    if (e.retryAfterS === 0) continue;
    const next = log[i + 1]!;
    const waitedUs = next.atUs - e.atUs;
    if (waitedUs < e.retryAfterS * 1e6 - CLOCK_SKEW_US)
      bad.push(
        `#${i + 1} ${next.path} ${(waitedUs / 1000).toFixed(1)} ms after a ${e.status} with Retry-After ${e.retryAfterS}`,
      );
  }
  return bad;
}

describe("REST etiquette (simulator request log)", () => {
  test("429: nothing is sent before Retry-After; no strike, no ban; the gap is repaired", async () => {
    h = await startHarness({
      symbols: ["BTCUSDT"],
      kinds: ["trade"],
      // 60 weight per 2 s: the third historicalTrades page (25 each) of a window is refused.
      // Six pages: with four, a window boundary between the second and third left two in each
      // window and no 429 came (CI, 2026-12-06); six pages, two per window, would have to span a
      // whole window (2 s), while a repair sends them back to back.
      sim: { ratePerSec: 2000, restWeightLimit: 60, restWeightWindowMs: WINDOW_MS, restStrikesBeforeBan: 0 },
    });
    await gapThenRepair(h, 6000, 20_000);
    const log = h.sim.restLog();
    expect(log.filter((e) => e.verdict === "over_budget").length).toBeGreaterThan(0);
    expect(log.filter((e) => e.verdict === "in_backoff" || e.verdict === "banned")).toEqual([]);
    expect(requestsInsideRetryAfter(log)).toEqual([]);
  }, 30_000);

  test("418: K2 waits out the ban's Retry-After before each new request, then repairs", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 500 } });
    const hh = h;
    await hh.waitFor(() => count(hh) >= 20, 5000, "first trades");
    hh.sim.faults.rest({ status: 418 }); // every answer: 418 with Retry-After: 1
    hh.sim.faults.skipTradeIds(100, "BTCUSDT");
    await hh.waitFor(
      () => hh.sim.restLog().filter((e) => e.status === 418).length >= 3,
      10_000,
      "three 418s",
    );
    hh.sim.faults.rest({ status: 0 });
    await gapThenRepair(hh, 50, 15_000);
    const log = hh.sim.restLog();
    expect(requestsInsideRetryAfter(log)).toEqual([]);
    expect(log.at(-1)!.status).toBe(200);
  }, 30_000);

  test("500: retries back off (each wait at least the configured delay)", async () => {
    const delayMs = (n: number) => Math.min(400, 50 * 2 ** n); // the harness's retryDelayMs
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 500 } });
    const hh = h;
    await hh.waitFor(() => count(hh) >= 20, 5000, "first trades");
    hh.sim.faults.rest({ status: 500 });
    hh.sim.faults.skipTradeIds(100, "BTCUSDT");
    await hh.waitFor(() => hh.sim.restLog().filter((e) => e.status === 500).length >= 4, 10_000, "four 500s");
    hh.sim.faults.rest({ status: 0 });
    const fails = hh.sim.restLog().filter((e) => e.status === 500);
    for (let i = 1; i < 4; i++) {
      const waitedMs = (fails[i]!.atUs - fails[i - 1]!.atUs) / 1000;
      expect({ retry: i, atLeast: waitedMs >= delayMs(i) - CLOCK_SKEW_US / 1000 }).toEqual({
        retry: i,
        atLeast: true,
      });
    }
    await gapThenRepair(hh, 50, 15_000);
  }, 30_000);

  test("K2's own weight budget per window is never exceeded, and it waits rather than earn a 429", async () => {
    h = await startHarness({
      symbols: ["BTCUSDT"],
      kinds: ["trade"],
      sim: { ratePerSec: 1000, restWeightWindowMs: WINDOW_MS },
      rest: { weightBudgetPerMin: 100, weightWindowMs: WINDOW_MS },
    });
    await gapThenRepair(h, 5000, 25_000);
    const log = h.sim.restLog();
    expect(log.filter((e) => e.status !== 200)).toEqual([]);
    const perWindow = new Map<number, number>();
    for (const e of log) {
      const w = Math.floor(e.atUs / 1000 / WINDOW_MS);
      perWindow.set(w, (perWindow.get(w) ?? 0) + e.weight);
    }
    for (const [w, weight] of perWindow)
      expect({ w, weight, over: weight > 100 }).toEqual({ w, weight, over: false });
    expect(perWindow.size).toBeGreaterThanOrEqual(2); // the repair needed more than one window
  }, 40_000);
});
