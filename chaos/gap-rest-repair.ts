/** Trade ids withheld from the socket (REST has them): K2 detects the gap and repairs it from REST. */
import { type Checker, type Scenario, snap, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "gap-rest-repair",
  summary: "~100 ids per symbol withheld from sockets, 3 times: repaired from REST, nothing lost",
  smoke: true,
  async run(_o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const before = await snap(stack);
      for (let i = 0; i < 3; i++) {
        // 100 ids = 0.5 s at 200/s: the withholding ends well before the next skip.
        stack.sim.faults.skipTradeIds(100);
        await Bun.sleep(1500);
      }
      await Bun.sleep(2000);
      const after = await snap(stack);
      const withheld = Object.values(stack.sim.groundTruth().symbols).reduce(
        (n, s) => n + s.withheldTradeIds.reduce((m, [a, b]) => m + b - a + 1, 0),
        0,
      );
      const repaired = (after?.gapIdsRepaired ?? 0) - (before?.gapIdsRepaired ?? 0);
      chk.set("ids_withheld", withheld);
      chk.set("ids_repaired", repaired);
      chk.set("gaps_detected", (after?.gapsDetected ?? 0) - (before?.gapsDetected ?? 0));
      // Whole aggTrades are withheld, so the count is at least 100 per skip and symbol.
      chk.check(withheld >= 600, `expected >= 600 withheld ids, ground truth says ${withheld}`);
      chk.check(repaired >= withheld, `repaired ${repaired} < withheld ${withheld}`);
    });
  },
};
