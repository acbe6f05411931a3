/**
 * Pings stop: the server neither sends pings nor reads the client's control frames, while data
 * keeps flowing. Data is what matters: K2 must stay ready and lose nothing (no false stall).
 */
import { type Checker, type Scenario, snap, watchReady, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "pings-stop",
  summary: "server pings off and client control frames unread while data flows: stays ready, no loss",
  smoke: false,
  async run(o, chk: Checker) {
    await withStack(chk, { sim: { pingIntervalMs: 500 } }, async (stack) => {
      const before = await snap(stack);
      stack.sim.faults.sendPings(false);
      stack.sim.faults.answerPings(false);
      const during = await watchReady(stack, o.short ? 6000 : 20_000);
      stack.sim.faults.sendPings(true);
      stack.sim.faults.answerPings(true);
      const after = await snap(stack);
      chk.set("ready_during", during.counts);
      chk.set("reconnects_during", (after?.reconnects ?? 0) - (before?.reconnects ?? 0));
      chk.check((during.counts[503] ?? 0) === 0, "readiness said 503 although data kept flowing");
      chk.check(
        (after?.tradesAccepted ?? 0) > (before?.tradesAccepted ?? 0),
        "no trades accepted while pings were off",
      );
    });
  },
};
