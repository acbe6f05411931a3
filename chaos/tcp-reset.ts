/** Abrupt TCP reset of every connection (no close frame): K2 reconnects fast and loses nothing. */
import {
  type Checker,
  RECONNECT_MAX_MS,
  recoveryMs,
  type Scenario,
  snap,
  withStack,
} from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "tcp-reset",
  summary: "every socket dropped with a TCP reset, 3 times; reconnect within the backoff cap, nothing lost",
  smoke: true,
  async run(_o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = await snap(stack);
        const t0 = performance.now();
        stack.sim.faults.dropAll("reset");
        const ms = await recoveryMs(stack, t0, before?.reconnects ?? 0, 15_000);
        chk.check(ms !== null, `reset ${i + 1}: no reconnect + new trades within 15 s`);
        if (ms !== null) times.push(ms);
        await Bun.sleep(1500);
      }
      chk.set("recovery_ms", times);
      // Bound: the backoff cap, plus connection set-up and a tick of the simulator.
      const worst = Math.max(0, ...times);
      chk.check(
        worst <= RECONNECT_MAX_MS + 1500,
        `slowest recovery ${worst} ms > cap ${RECONNECT_MAX_MS} ms + 1.5 s`,
      );
      chk.set("reconnects", (await snap(stack))?.reconnects);
    });
  },
};
