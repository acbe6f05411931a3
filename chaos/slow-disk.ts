/**
 * Slow disk. Needs a block device with injected latency (device-mapper "delay" target) under K2's
 * data dir; K2 has no write-delay injection of its own and src/ is not edited for chaos. When the
 * kernel offers no device-mapper here, the scenario says SKIP with the reason: never a fake PASS.
 */
import { spawnSync } from "node:child_process";
import { type Checker, type Scenario, Skip } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "slow-disk",
  summary: "data dir on a dm-delay device (100 ms per write): no loss, write lag visible (SKIP without dm)",
  smoke: false,
  async run(_o, _chk: Checker) {
    const r = spawnSync("dmsetup", ["targets"], { encoding: "utf8" });
    const hasDelay = r.status === 0 && /^delay\s/m.test(r.stdout);
    if (!hasDelay) {
      const why = r.error ? "dmsetup not installed" : (r.stderr || r.stdout).split("\n")[0];
      throw new Skip(
        `cannot simulate a slow disk here: device-mapper delay target unavailable (${why}); ` +
          "K2 has no write-latency injection and src/ is not edited for chaos",
      );
    }
    // A machine with dm-delay: build a loop device + delay table here. Not reachable on the
    // reference machine, so not written blind; say so instead of pretending.
    throw new Skip("dm-delay is available but the slow-disk setup is not implemented yet");
  },
};
