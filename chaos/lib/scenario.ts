/**
 * What every chaos scenario shares: a stack tuned for fast faults (short data timeout and
 * backoff, quick file cuts), a checker that collects numbers and failed invariants, readiness
 * watching, and the end-of-scenario completeness proof (soak/lib/finish.ts).
 */

import { describeCompleteness, finishRun } from "../../soak/lib/finish.ts";
import { type Snapshot, snapshot } from "../../soak/lib/metrics.ts";
import { type Stack, startStack, waitUntil } from "../../soak/lib/stack.ts";
import type { SimOptionsInput } from "../../src/sim/index.ts";

export type Status = "PASS" | "FAIL" | "SKIP";

export interface ScenarioResult {
  name: string;
  status: Status;
  durationMs: number;
  numbers: Record<string, unknown>;
  failures: string[];
  note?: string;
}

export interface RunOptions {
  /** Shorter holds and caps, for chaos-smoke (e.g. a 20 s refusal instead of 2 minutes). */
  short: boolean;
}

export interface Scenario {
  name: string;
  summary: string;
  /** Part of `make chaos-smoke`. */
  smoke: boolean;
  run(o: RunOptions, chk: Checker): Promise<void>;
}

/** Thrown by a scenario that cannot run here (missing kernel feature...): reported as SKIP. */
export class Skip extends Error {}

export class Checker {
  readonly numbers: Record<string, unknown> = {};
  readonly failures: string[] = [];
  set(key: string, value: unknown): void {
    this.numbers[key] =
      typeof value === "number" && !Number.isInteger(value) ? Number(value.toFixed(3)) : value;
  }
  /** Record an invariant; a false one fails the scenario with `what` as the reason. */
  check(ok: boolean, what: string): boolean {
    if (!ok) this.failures.push(what);
    return ok;
  }
}

export const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
export const DATA_TIMEOUT_MS = 2000;
export const RECONNECT_MAX_MS = 2000;

/** K2 settings for chaos: faults show within seconds, files are cut often (small SIGKILL losses). */
export const CHAOS_ENV: Record<string, string> = {
  K2_DATA_TIMEOUT_MS: String(DATA_TIMEOUT_MS),
  K2_RECONNECT_BASE_MS: "200",
  K2_RECONNECT_MAX_MS: String(RECONNECT_MAX_MS),
  K2_CONNECT_MIN_INTERVAL_MS: "0",
  K2_FLUSH_INTERVAL_MS: "300",
  K2_WAL_FSYNC_MS: "20",
  K2_QUERY_MEMORY_MB: "128",
  K2_HEALTH_CONTROL_MS: "1000",
  K2_GAP_REPAIR_MAX_ATTEMPTS: "12",
};

export interface StackSpec {
  sim?: SimOptionsInput;
  env?: Record<string, string>;
  dataDir?: string;
  symbols?: string[];
}

/**
 * Start simulator + K2, wait until ready, run `body`, then prove completeness and a clean SIGTERM.
 * The stack is always closed, whatever happens.
 */
export async function withStack(
  chk: Checker,
  spec: StackSpec,
  body: (stack: Stack) => Promise<void>,
): Promise<void> {
  const stack = await startStack({
    symbols: spec.symbols ?? SYMBOLS,
    sim: { ratePerSec: 200, seed: 21, ...spec.sim },
    env: { ...CHAOS_ENV, ...spec.env },
    ...(spec.dataDir ? { dataDir: spec.dataDir } : {}),
  });
  try {
    const readyMs = await waitUntil(async () => (await stack.ready()) === 200, 20_000);
    if (!chk.check(readyMs !== null, "K2 never became ready before the fault")) return;
    await Bun.sleep(1000);
    await body(stack);
    chk.check(stack.k2.proc.exitCode === null, `K2 crashed (exit ${stack.k2.proc.exitCode})`);
    if (stack.k2.proc.exitCode !== null) return;
    const f = await finishRun(stack, 60_000);
    const c = f.completeness;
    chk.set("expected", c.expected);
    chk.set("stored", c.stored);
    chk.set("duplicated", c.duplicated);
    chk.set("lost", c.lost);
    chk.set("missing_at_source", c.missingAtSource);
    chk.set("gap_ids_repaired", f.final?.gapIdsRepaired);
    chk.set("gap_ids_unrepaired", f.final?.gapIdsUnrepaired);
    chk.set("settle_ms", f.settleMs === null ? null : Math.round(f.settleMs));
    chk.check(f.settleMs !== null, "gap repair did not settle within 60 s");
    chk.check(f.caughtUpMs !== null, "K2 did not catch up with the ground-truth cut within 60 s");
    chk.check(c.ok, `completeness: ${describeCompleteness(c)}`);
    if (c.lost > 0)
      chk.set(
        "lost_sample",
        c.symbols.flatMap((s) => s.lostSample.map((r) => `${s.symbol}:${r[0]}-${r[1]}`)),
      );
    chk.check(f.exitCode === 0, `K2 exit code after SIGTERM was ${f.exitCode}, expected 0`);
  } finally {
    await stack.close();
  }
}

/** Metrics snapshot, or undefined when K2 does not answer. */
export async function snap(stack: Stack): Promise<Snapshot | undefined> {
  const m = await stack.metrics().catch(() => undefined);
  return m ? snapshot(m) : undefined;
}

/** Poll /health/ready for `ms`: how many answers of each status, and the first time of each. */
export async function watchReady(stack: Stack, ms: number, everyMs = 200) {
  const t0 = performance.now();
  const counts: Record<number, number> = {};
  const firstAtMs: Record<number, number> = {};
  let flips = 0;
  let last: number | undefined;
  for (let i = 0; i < Math.ceil(ms / everyMs) + 1 && performance.now() - t0 < ms; i++) {
    const s = await stack.ready();
    counts[s] = (counts[s] ?? 0) + 1;
    firstAtMs[s] ??= Math.round(performance.now() - t0);
    if (last !== undefined && s !== last) flips++;
    last = s;
    await Bun.sleep(everyMs);
  }
  return { counts, firstAtMs, flips };
}

/**
 * Time until K2 demonstrably ingests again after a fault at `t0`: the reconnect counter moved past
 * `reconnects0` (when given) and accepted trades grew after that. null on timeout.
 */
export async function recoveryMs(stack: Stack, t0: number, reconnects0: number | null, timeoutMs: number) {
  let base: number | undefined;
  const ok = await waitUntil(
    async () => {
      const s = await snap(stack);
      if (!s) return false;
      if (reconnects0 !== null && !(s.reconnects > reconnects0)) return false;
      if (base === undefined) {
        base = s.tradesAccepted;
        return false;
      }
      return s.tradesAccepted > base;
    },
    timeoutMs,
    50,
  );
  return ok === null ? null : Math.round(performance.now() - t0);
}
