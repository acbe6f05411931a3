/**
 * Ids that never existed at the source (no socket, no REST): K2 must not invent them, must not
 * count them as lost, and its gap ledger must list exactly those ranges as missing_at_source.
 */
import { type Checker, type Scenario, snap, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "gap-missing-at-source",
  summary: "100 ids per symbol lost at the source, twice: ledger says missing_at_source, nothing invented",
  smoke: true,
  async run(_o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const before = await snap(stack);
      stack.sim.faults.loseTradeIds(100);
      await Bun.sleep(1500);
      stack.sim.faults.loseTradeIds(100);
      await Bun.sleep(2500);
      const after = await snap(stack);
      const missing = (after?.gapIdsMissingAtSource ?? 0) - (before?.gapIdsMissingAtSource ?? 0);
      chk.set("ids_missing_at_source_counted", missing);
      chk.set("ids_unrepaired", after?.gapIdsUnrepaired);
      chk.check(missing === 400, `K2 counted ${missing} ids missing at source, expected 400`);
      chk.check((after?.gapIdsUnrepaired ?? 0) === 0, "some ids were ledgered unrepaired instead");
      // withStack's completeness check proves each lost range is in the ledger as missing_at_source.
    });
  },
};
