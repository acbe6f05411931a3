/**
 * Silent stall: sockets stay open but carry nothing (no data, no pings). K2 must notice within its
 * data timeout, say so on /health/ready (503), replace the connection, and after the stall be
 * ready again with the stalled stretch repaired from REST.
 */

import { waitUntil } from "../soak/lib/stack.ts";
import {
  type Checker,
  DATA_TIMEOUT_MS,
  RECONNECT_MAX_MS,
  type Scenario,
  snap,
  watchReady,
  withStack,
} from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "silent-stall",
  summary: "no bytes at all for 3x the data timeout: 503 during, reconnects, 200 after, gap repaired",
  smoke: true,
  async run(o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const before = await snap(stack);
      const holdMs = o.short ? DATA_TIMEOUT_MS * 3 : DATA_TIMEOUT_MS * 8;
      stack.sim.faults.stall(true);
      const during = await watchReady(stack, holdMs);
      stack.sim.faults.stall(false);
      const backMs = await waitUntil(async () => (await stack.ready()) === 200, 30_000, 100);
      const after = await snap(stack);
      chk.set("stall_ms", holdMs);
      chk.set("ready_during", during.counts);
      chk.set("first_503_after_ms", during.firstAtMs[503] ?? null);
      chk.set("ready_flips_during", during.flips);
      chk.set("ready_again_after_ms", backMs === null ? null : Math.round(backMs));
      chk.set("reconnects_during", (after?.reconnects ?? 0) - (before?.reconnects ?? 0));
      chk.check((during.counts[503] ?? 0) > 0, "readiness never said 503 during the stall");
      const first = during.firstAtMs[503];
      if (first !== undefined)
        chk.check(
          first <= DATA_TIMEOUT_MS + 2000,
          `503 came ${first} ms into the stall (> data timeout + 2 s)`,
        );
      // One change (200 → 503) is truthful; more means readiness flapped back to 200 mid-stall.
      chk.check(during.flips <= 1, `readiness flapped ${during.flips} times during one stall`);
      chk.check(backMs !== null, "not ready again within 30 s after the stall");
      chk.check(
        (backMs ?? Infinity) <= DATA_TIMEOUT_MS + RECONNECT_MAX_MS + 3000,
        `ready again only after ${Math.round(backMs ?? -1)} ms`,
      );
      chk.check(
        (after?.reconnects ?? 0) > (before?.reconnects ?? 0),
        "the stalled connection was never replaced",
      );
    });
  },
};
