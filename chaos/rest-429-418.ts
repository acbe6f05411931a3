/**
 * REST storm while gaps need repair: first every call answers 429, then 418 (banned). K2 must back
 * off (not hammer the endpoint), keep streaming (REST trouble is not a stream outage: ready stays
 * 200), and once REST answers again repair every gap.
 */
import { type Checker, type Scenario, snap, watchReady, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "rest-429-418",
  summary: "gaps during a REST 429 storm, then a 418 ban: backs off, stays ready, repairs all after",
  smoke: false,
  async run(o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const holdMs = o.short ? 6000 : 15_000;
      for (const status of [429, 418] as const) {
        const before = await snap(stack);
        const rest0 = stack.sim.stats().rest;
        stack.sim.faults.rest({ status });
        stack.sim.faults.skipTradeIds(300);
        const w = await watchReady(stack, holdMs, 250);
        const rest1 = stack.sim.stats().rest;
        stack.sim.faults.rest({ status: 0 });
        const calls = rest1.requests - rest0.requests;
        const mid = await snap(stack);
        chk.set(`${status}_rest_calls_during`, calls);
        chk.set(`${status}_k2_counted`, status === 429 ? mid?.restRequests : undefined);
        chk.set(`${status}_ready_polls`, w.counts);
        chk.set(`${status}_pending_ids_during`, mid?.gapIdsPending);
        // Two gaps (one per symbol) retried on 250 ms * 2^n: a handful of calls, not hundreds.
        chk.check(calls > 0, `${status}: K2 never tried REST during the storm`);
        chk.check(calls <= 30, `${status}: ${calls} REST calls in ${holdMs} ms, not backing off`);
        chk.check((w.counts[503] ?? 0) === 0, `${status}: readiness said 503 although streams delivered`);
        chk.check(
          (mid?.gapIdsUnrepaired ?? 0) === 0,
          `${status}: ids marked unrepaired during a ${holdMs} ms storm`,
        );
        void before;
      }
      const m = await snap(stack);
      chk.set("k2_rest_requests_total", m?.restRequests);
    });
  },
};
