/**
 * The end of every run, in an order that makes the comparison exact: faults off → let gap repair
 * settle → cut the ground truth → wait until K2 holds every symbol up to the cut → read the gap
 * ledger (it lives in K2's memory) → SIGTERM → read the Parquet files back.
 */
import type { GroundTruth } from "../../src/sim/index.ts";
import { type Completeness, type LedgerEntry, verifyCompleteness } from "./completeness.ts";
import { type Snapshot, snapshot } from "./metrics.ts";
import { type Stack, waitUntil } from "./stack.ts";

export interface Finish {
  completeness: Completeness;
  /** K2's exit code after SIGTERM (0 = drained cleanly). */
  exitCode: number | null;
  /** How long gap repair took to settle at the end, and whether K2 caught up with the cut. */
  settleMs: number | null;
  caughtUpMs: number | null;
  ledger: LedgerEntry[];
  truth: GroundTruth;
  /** K2's counters just before SIGTERM (undefined if it no longer answered). */
  final: Snapshot | undefined;
}

/** Every fault switch back to normal (one-shot actions need no undo). */
export function clearFaults(stack: Stack): void {
  stack.sim.applyFaults({
    stall: false,
    sendPings: true,
    answerPings: true,
    garbageRatio: 0,
    refuseForMs: 0,
    rest: { status: 0, delayMs: 0 },
  });
}

/** Gap repair idle: nothing pending/repairing and an empty backlog. */
export async function repairsSettled(stack: Stack, timeoutMs: number): Promise<number | null> {
  return waitUntil(
    async () => {
      const m = await stack.metrics().catch(() => undefined);
      if (!m) return false;
      const s = snapshot(m);
      return s.gapBacklog === 0 && s.gapIdsPending === 0;
    },
    timeoutMs,
    250,
  );
}

async function newestTradeId(stack: Stack, symbol: string): Promise<number> {
  const r = await stack.get(`/v1/trades?symbol=${symbol}&limit=1&order=desc`);
  if (r.status !== 200) return -1;
  const body = JSON.parse(r.body) as { data: { trade_id: number }[] };
  return body.data[0]?.trade_id ?? -1;
}

export async function readLedger(stack: Stack): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (const s of stack.symbols) {
    const r = await stack.get(`/v1/gaps?symbol=${s}`);
    if (r.status === 200) out.push(...(JSON.parse(r.body) as { data: LedgerEntry[] }).data);
  }
  return out;
}

export async function finishRun(stack: Stack, settleTimeoutMs = 60_000): Promise<Finish> {
  clearFaults(stack);
  const settleMs = await repairsSettled(stack, settleTimeoutMs);
  const truth = stack.sim.groundTruth();
  const cuts = stack.symbols.map((s) => {
    const r = truth.symbols[s]?.tradeIds;
    return r?.[r.length - 1]?.[1] ?? -1;
  });
  const caughtUpMs = await waitUntil(
    async () => {
      for (let i = 0; i < stack.symbols.length; i++)
        if ((await newestTradeId(stack, stack.symbols[i]!)) < cuts[i]!) return false;
      return true;
    },
    settleTimeoutMs,
    250,
  );
  // A gap just below the cut is only noticed when the next id arrives: settle once more.
  await repairsSettled(stack, settleTimeoutMs);
  const ledger = await readLedger(stack);
  const m = await stack.metrics().catch(() => undefined);
  const final = m ? snapshot(m) : undefined;
  const exitCode = await stack.stopK2();
  const after = stack.sim.groundTruth();
  const completeness = await verifyCompleteness(stack.dataDir, truth, stack.symbols, ledger, after);
  return { completeness, exitCode, settleMs, caughtUpMs, ledger, truth, final };
}

export function describeCompleteness(c: Completeness): string {
  return (
    `expected ${c.expected}, stored ${c.stored}, duplicated ${c.duplicated}, lost ${c.lost}, ` +
    `unexpected ${c.unexpected}, missing-at-source ${c.missingAtSource} ` +
    `(not in ledger: ${c.missingNotLedgered})`
  );
}
