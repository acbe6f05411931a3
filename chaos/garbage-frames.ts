/**
 * Garbage on the stream: 10 % extra frames that are malformed, truncated, oversized (1 MiB) or
 * binary. Every one goes to the dead-letter queue with its reason; the connection stays up; every
 * real trade (sent alongside, never instead) is stored once.
 */
import { type Checker, type Scenario, snap, watchReady, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "garbage-frames",
  summary: "10 % malformed/truncated/oversized/binary frames: all dead-lettered, connection stays up",
  smoke: false,
  async run(o, chk: Checker) {
    await withStack(chk, { sim: { ratePerSec: 50 } }, async (stack) => {
      const before = await snap(stack);
      const g0 = stack.sim.stats().garbageFramesSent;
      stack.sim.faults.garbage(0.1);
      const w = await watchReady(stack, o.short ? 6000 : 15_000, 250);
      stack.sim.faults.garbage(0);
      await Bun.sleep(1500); // dead letters are persisted and counted once a second
      const after = await snap(stack);
      const sent = stack.sim.stats().garbageFramesSent - g0;
      const dead = (after?.deadLetters ?? 0) - (before?.deadLetters ?? 0);
      const reconnects = (after?.reconnects ?? 0) - (before?.reconnects ?? 0);
      chk.set("garbage_sent", sent);
      chk.set("dead_letters", dead);
      chk.set("reconnects", reconnects);
      chk.set("ready_polls", w.counts);
      chk.check(sent > 0, "the simulator sent no garbage");
      chk.check(dead === sent, `dead letters ${dead} != garbage frames sent ${sent}`);
      chk.check(reconnects === 0, `${reconnects} reconnect(s): garbage must not cost the connection`);
      chk.check((w.counts[503] ?? 0) === 0, "readiness said 503 during garbage");
    });
  },
};
