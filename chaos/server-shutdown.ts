/**
 * serverShutdown notice (Binance announces maintenance on the stream): K2 rotates make-before-
 * break, so readiness never drops and the overlap is deduplicated by trade id.
 */
import { type Checker, type Scenario, snap, watchReady, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "server-shutdown",
  summary: "3 serverShutdown notices: 3 make-before-break rotations, always ready, no gap, no duplicate",
  smoke: true,
  async run(_o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const before = await snap(stack);
      const ready = { 200: 0, other: 0 };
      for (let i = 0; i < 3; i++) {
        stack.sim.faults.serverShutdown();
        const w = await watchReady(stack, 2500, 100);
        ready[200] += w.counts[200] ?? 0;
        ready.other += Object.entries(w.counts).reduce((n, [k, v]) => n + (k === "200" ? 0 : v), 0);
      }
      const after = await snap(stack);
      const rotations = (after?.rotations ?? 0) - (before?.rotations ?? 0);
      chk.set("rotations", rotations);
      chk.set("reconnects", (after?.reconnects ?? 0) - (before?.reconnects ?? 0));
      chk.set("gaps_detected", (after?.gapsDetected ?? 0) - (before?.gapsDetected ?? 0));
      chk.set("duplicates_dropped", (after?.duplicatesDropped ?? 0) - (before?.duplicatesDropped ?? 0));
      chk.set("ready_polls", ready);
      chk.check(rotations >= 3, `expected 3 rotations, saw ${rotations}`);
      chk.check(ready.other === 0, `readiness was not 200 on ${ready.other} polls during rotation`);
      chk.check(
        (after?.gapsDetected ?? 0) === (before?.gapsDetected ?? 0),
        "a rotation left a gap (make-before-break should leave none)",
      );
    });
  },
};
