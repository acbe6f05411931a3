/**
 * The gap ledger outlives a restart (issue 17 item 4): ids lost at the source are ledgered
 * `missing_at_source` by one K2 process; after a stop and a start on the same data dir, /v1/gaps
 * still names them, with their cause and state, and new entries do not reuse their ids.
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "../support/bounded-run.ts";
import { type Gap, gapsOf } from "../support/gaps.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";

let sim: Simulator | undefined;
const procs: K2Process[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) p.cleanup();
  await sim?.stop();
  sim = undefined;
});

test("a missing_at_source entry is still in /v1/gaps after a restart", async () => {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 200, seed: 21 });
  const env = simEnv(sim, ["BTCUSDT"], { K2_STREAMS: "trade" });
  const first = await startK2(env);
  procs.push(first);
  await Bun.sleep(300);
  sim.faults.loseTradeIds(25, "BTCUSDT");
  let settled: Gap | undefined;
  await waitUntil(
    async () => {
      settled = (await gapsOf(first.url, "BTCUSDT")).find((g) => g.state === "missing_at_source");
      return settled !== undefined;
    },
    15_000,
    "the lost ids ledgered missing_at_source",
  );
  expect((await first.stop()).code).toBe(0);
  const second = await startK2({ ...env, K2_DATA_DIR: first.dataDir });
  procs.push(second);
  const after = await gapsOf(second.url, "BTCUSDT");
  expect(after.find((g) => g.gap_id === settled!.gap_id)).toEqual(settled!);
  // The downtime is a new entry with a new id.
  await waitUntil(
    async () => (await gapsOf(second.url, "BTCUSDT")).some((g) => g.cause === "restart"),
    10_000,
    "restart gap",
  );
  const restart = (await gapsOf(second.url, "BTCUSDT")).find((g) => g.cause === "restart")!;
  expect(restart.gap_id).toBeGreaterThan(settled!.gap_id);
  expect((await second.stop()).code).toBe(0);
});
