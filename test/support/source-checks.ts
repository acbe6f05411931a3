/**
 * Checks shared by the source tests (test/source/): flow, catch-up and completeness against the
 * simulator's ground truth, through the harness.
 */
import { expect } from "bun:test";
import { wholeTruth } from "./bounded-run.ts";
import type { Harness } from "./source-harness.ts";

export const count = (hh: Harness, key: string) => hh.seen.get(key)?.length ?? 0;

/** Wait for `n` more trades of a symbol than now, then for repairs to settle. */
export async function flowMore(hh: Harness, n: number, symbol = "BTCUSDT", timeoutMs = 8000) {
  const target = count(hh, `trades:${symbol}`) + n;
  await hh.waitFor(() => count(hh, `trades:${symbol}`) >= target, timeoutMs, `${n} more ${symbol} trades`);
  await hh.waitFor(() => hh.repairer.backlog === 0, timeoutMs, "repair backlog to drain");
  hh.drain();
}

/**
 * Every trade of the run once: the market is paused, the source catches up (repairs included),
 * and the ring's ids must equal the simulator's whole ground truth; then the market resumes.
 */
export async function expectTradesComplete(hh: Harness, symbol = "BTCUSDT") {
  await hh.catchUp();
  const ids = hh.ids("trades", symbol);
  expect(ids).toEqual(wholeTruth(hh.sim, "trades", symbol));
  expect(hh.repeats).toEqual([]);
  hh.resume();
  return ids;
}

export const opened = (hh: Harness) => hh.events.filter((e) => e.type === "open").length;
