/**
 * The 24 h connection cut, compressed: the simulator cuts every connection at 7 s; K2 is told to
 * rotate at 4 s. K2 must always rotate first (the simulator's lifetime counter stays 0), stay ready,
 * and store every trade once. Real-time equivalent: K2_ROTATE_AFTER_MS 23 h vs Binance's 24 h.
 */
import { type Checker, type Scenario, snap, watchReady, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "lifetime-cut",
  summary: "sim cuts connections at 7 s, K2 rotates at 4 s: rotations win, no cut, no gap, always ready",
  smoke: false,
  async run(o, chk: Checker) {
    const spec = { sim: { faults: { maxLifetimeMs: 7000 } }, env: { K2_ROTATE_AFTER_MS: "4000" } };
    await withStack(chk, spec, async (stack) => {
      const before = await snap(stack);
      const w = await watchReady(stack, o.short ? 12_000 : 30_000, 200);
      const after = await snap(stack);
      const cuts = stack.sim.stats().disconnects.lifetime;
      const rotations = (after?.rotations ?? 0) - (before?.rotations ?? 0);
      chk.set("rotations", rotations);
      chk.set("sim_lifetime_cuts", cuts);
      chk.set("gaps_detected", (after?.gapsDetected ?? 0) - (before?.gapsDetected ?? 0));
      chk.set("ready_polls", w.counts);
      chk.check(rotations >= 2, `expected at least 2 rotations, saw ${rotations}`);
      chk.check(cuts === 0, `the simulator cut ${cuts} connection(s) at their lifetime before K2 rotated`);
      chk.check((w.counts[503] ?? 0) === 0, "readiness said 503 during rotations");
    });
  },
};
