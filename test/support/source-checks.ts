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

/** Junk frames at 10 % (malformed, truncated, oversized, binary): dead-lettered, the session kept, nothing lost. */
export async function junkFramesDeadLettered(hh: Harness) {
  await flowMore(hh, 20);
  hh.sim.faults.garbage(0.1);
  await flowMore(hh, 400);
  expect(opened(hh)).toBe(1);
  const dl = hh.ingest.deps.deadLetters;
  expect(dl.size + dl.droppedTotal).toBeGreaterThan(10);
  await expectTradesComplete(hh);
}

/** The server announces its shutdown: one make-before-break rotation, nothing lost, nothing ledgered. */
export async function serverShutdownRotates(hh: Harness) {
  await flowMore(hh, 50);
  hh.sim.faults.serverShutdown();
  await hh.waitFor(() => hh.events.some((e) => e.type === "rotated"), 3000, "rotation");
  await flowMore(hh, 100);
  await expectTradesComplete(hh);
  expect(hh.source.rotations).toBe(1);
  expect(hh.ledger.entries()).toEqual([]);
}
