/**
 * The soak's fault cycle. Each entry is one realistic misbehaviour of Binance, applied through the
 * simulator's switches. `outage: true` marks faults that by design interrupt delivery (the socket
 * goes away or goes silent); only their windows are excluded from the uptime figure. Rotation
 * (serverShutdown) and id gaps must not interrupt delivery at all, so they are never excluded.
 */
import type { Simulator } from "../../src/sim/index.ts";

export interface FaultContext {
  sim: Simulator;
  /** K2's K2_DATA_TIMEOUT_MS: a stall must outlast it to be noticed. */
  dataTimeoutMs: number;
  /** Longest a fault may hold (half the spacing), so faults never overlap. */
  maxHoldMs: number;
  /** The simulator's normal connection lifetime, restored after a forced cut. */
  lifetimeMs: number;
}

export interface FaultKind {
  name: string;
  outage: boolean;
  /** Applies the fault and resolves when it is lifted (one-shot actions resolve at once). */
  apply(c: FaultContext): Promise<void>;
}

export const FAULT_CYCLE: readonly FaultKind[] = [
  { name: "drop-close", outage: true, apply: async (c) => c.sim.faults.dropAll("close") },
  { name: "skip-ids", outage: false, apply: async (c) => c.sim.faults.skipTradeIds(200) },
  { name: "drop-reset", outage: true, apply: async (c) => c.sim.faults.dropAll("reset") },
  { name: "server-shutdown", outage: false, apply: async (c) => c.sim.faults.serverShutdown() },
  { name: "lose-ids", outage: false, apply: async (c) => c.sim.faults.loseTradeIds(50) },
  {
    name: "stall",
    outage: true,
    async apply(c) {
      c.sim.faults.stall(true);
      await Bun.sleep(Math.min(c.maxHoldMs, Math.round(c.dataTimeoutMs * 1.5)));
      c.sim.faults.stall(false);
    },
  },
  {
    // Binance's 24 h cut arriving early: every connection older than 10 ms is closed (1001).
    name: "lifetime-cut",
    outage: true,
    async apply(c) {
      c.sim.faults.maxLifetime(10);
      await Bun.sleep(200);
      c.sim.faults.maxLifetime(c.lifetimeMs);
    },
  },
];

/**
 * The cycle restricted to the named kinds, in cycle order: an ablation runs one misbehaviour (or a
 * few) often enough that memory kept per occurrence stands out from the run's noise.
 */
export function faultCycle(only: readonly string[] | null): readonly FaultKind[] {
  if (only === null) return FAULT_CYCLE;
  const known = FAULT_CYCLE.map((k) => k.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length > 0 || only.length === 0)
    throw new Error(`unknown fault kind "${unknown[0] ?? ""}": expected some of ${known.join(", ")}`);
  return FAULT_CYCLE.filter((k) => only.includes(k.name));
}

export interface FaultEvent {
  name: string;
  outage: boolean;
  /** ms since the run started. */
  startMs: number;
  endMs: number;
}

/**
 * Uptime in percent over probe intervals, each attributed to the state seen at its start.
 * Excluded: intervals starting inside an outage window [start, end + graceMs].
 */
export function uptimePercent(
  probes: readonly { tMs: number; up: boolean }[],
  faults: readonly FaultEvent[],
  graceMs: number,
): { percent: number; observedMs: number; downMs: number; excludedMs: number } {
  const windows = faults.filter((f) => f.outage).map((f) => [f.startMs, f.endMs + graceMs] as const);
  let observed = 0;
  let down = 0;
  let excluded = 0;
  for (let i = 0; i + 1 < probes.length; i++) {
    const p = probes[i]!;
    const dt = probes[i + 1]!.tMs - p.tMs;
    if (windows.some(([a, b]) => p.tMs >= a && p.tMs <= b)) {
      excluded += dt;
      continue;
    }
    observed += dt;
    if (!p.up) down += dt;
  }
  const percent = observed === 0 ? Number.NaN : (100 * (observed - down)) / observed;
  return { percent, observedMs: observed, downMs: down, excludedMs: excluded };
}
