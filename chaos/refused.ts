/**
 * Connections refused (HTTP 503 on upgrade) for 2 minutes (`--short`: 20 s with a 4 s cap):
 * K2 keeps trying on its backoff schedule (ceiling doubling to the cap, full jitter, never giving
 * up), says 503 on /health/ready meanwhile, and once accepted again repairs the whole outage.
 * The schedule is read from K2's own "connecting" log lines (attempt, delay_ms).
 */
import { waitUntil } from "../soak/lib/stack.ts";
import { type Checker, DATA_TIMEOUT_MS, type Scenario, watchReady, withStack } from "./lib/scenario.ts";

interface Connecting {
  time: number;
  attempt: number;
  delay_ms: number;
}

export const scenario: Scenario = {
  name: "refused",
  summary: "upgrades refused for 2 min (short: 20 s): backoff doubles to its cap, 503 during, 200 after",
  smoke: false,
  async run(o, chk: Checker) {
    const baseMs = o.short ? 500 : 1000;
    const capMs = o.short ? 4000 : 128_000;
    const refuseMs = o.short ? 20_000 : 120_000;
    const env = { K2_RECONNECT_BASE_MS: String(baseMs), K2_RECONNECT_MAX_MS: String(capMs) };
    await withStack(chk, { env }, async (stack) => {
      const logStart = stack.k2.logs().length;
      stack.sim.faults.refuseConnections(refuseMs);
      stack.sim.faults.dropAll("close");
      const during = await watchReady(stack, refuseMs - 500, 500);
      const t1 = performance.now();
      const backMs = await waitUntil(async () => (await stack.ready()) === 200, capMs + 30_000, 200);
      const attempts = stack.k2
        .logs()
        .slice(logStart)
        .split("\n")
        .filter((l) => l.includes('"msg":"connecting"'))
        .map((l) => JSON.parse(l) as Connecting);
      // Ceiling for the n-th delay handed out since the last reset: min(cap, base * 2^(n-1)).
      const over = attempts.filter(
        (a) => a.delay_ms > Math.min(capMs, baseMs * 2 ** Math.max(0, a.attempt - 1)),
      );
      const schedule = attempts.map((a) => `${a.attempt}:${a.delay_ms}`);
      const ceilings = attempts.map((a) => Math.min(capMs, baseMs * 2 ** Math.max(0, a.attempt - 1)));
      chk.set("refused_ms", refuseMs);
      chk.set("backoff_base_cap_ms", [baseMs, capMs]);
      chk.set("attempts_attempt_delay_ms", schedule);
      chk.set("ready_during", during.counts);
      chk.set("ready_again_after_refusal_ms", backMs === null ? null : Math.round(backMs));
      chk.set("refused_upgrades", stack.sim.stats().refusedUpgrades);
      chk.check(
        attempts.length >= 4,
        `only ${attempts.length} connection attempts logged during the refusal`,
      );
      chk.check(
        over.length === 0,
        `delays above their ceiling: ${over.map((a) => `${a.attempt}:${a.delay_ms}`).join(" ")}`,
      );
      chk.check(Math.max(0, ...ceilings) === capMs, `the ceiling never reached the cap ${capMs} ms`);
      chk.check((during.counts[503] ?? 0) > 0, "readiness never said 503 while every connection was refused");
      chk.check((during.firstAtMs[503] ?? Infinity) <= DATA_TIMEOUT_MS + 2000, "503 came late");
      chk.check(
        backMs !== null && backMs <= capMs + 5000,
        `not ready within cap + 5 s after the refusal ended`,
      );
      void t1;
    });
  },
};
