/**
 * SIGKILL mid-batch, repeatedly: each restart replays the write-ahead log and repairs the downtime
 * from REST. The stored ids must equal the ground truth, each once. Recovery = restart → ready.
 */

import { waitUntil } from "../soak/lib/stack.ts";
import { type Checker, type Scenario, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "sigkill-wal",
  summary: "kill -9 at random moments (5x, short 3x), restart on the same data dir: WAL replay, no loss",
  smoke: true,
  async run(o, chk: Checker) {
    let seed = 20_240_611;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    await withStack(chk, { env: { K2_FLUSH_INTERVAL_MS: "700" } }, async (stack) => {
      const recoveries: number[] = [];
      let replayed = 0;
      const kills = o.short ? 3 : 5;
      for (let i = 0; i < kills; i++) {
        // Somewhere in a flush interval: rows in the ring, in the WAL, in a Parquet write.
        await Bun.sleep(300 + Math.floor(rnd() * 1200));
        await stack.k2.stop("SIGKILL");
        const t0 = performance.now();
        await stack.restartK2();
        const ms = await waitUntil(async () => (await stack.ready()) === 200, 30_000, 50);
        chk.check(ms !== null, `restart ${i + 1}: not ready within 30 s`);
        recoveries.push(Math.round(performance.now() - t0));
        const line = stack.k2
          .logs()
          .split("\n")
          .find((l) => l.includes('"msg":"WAL replayed"'));
        replayed += line ? Number((JSON.parse(line) as { replayed?: number }).replayed ?? 0) : 0;
      }
      chk.set("kills", kills);
      chk.set("restart_to_ready_ms", recoveries);
      chk.set("wal_rows_replayed", replayed);
      chk.check(replayed > 0, "no WAL row was ever replayed: the kills never hit un-filed rows");
    });
  },
};
