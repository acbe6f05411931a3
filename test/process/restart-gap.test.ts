/**
 * The downtime between two runs is a gap of cause `restart` (docs/RUNBOOK.md, "Gaps"), not
 * `stream`: a real K2 on a simulator that keeps trading is stopped, started again on the same
 * data dir, and /v1/gaps must name the ids it missed while down, with that cause.
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { newestId, simEnv, waitUntil } from "../support/bounded-run.ts";
import { type Gap, gapsOf } from "../support/gaps.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";
import { storedTradeIds } from "../support/stored.ts";

let sim: Simulator | undefined;
const procs: K2Process[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) p.cleanup();
  await sim?.stop();
  sim = undefined;
});

test("a restart's downtime is ledgered as cause restart, the ids between the two runs", async () => {
  try {
    await downtimeIsLedgered();
  } catch (e) {
    // CI once failed this test in 0.45 s with only its name in the log: name the processes' last words.
    const tails = procs.map(
      (p, i) => `--- K2 run ${i + 1} (exit ${p.proc.exitCode}):\n${p.logs().slice(-4000)}`,
    );
    throw new Error(`${(e as Error).message}\n${tails.join("\n")}`);
  }
});

async function downtimeIsLedgered() {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 200, seed: 14 });
  const env = simEnv(sim, ["BTCUSDT"], { K2_STREAMS: "trade" });
  const first = await startK2(env);
  procs.push(first);
  const start = sim.options.startTradeId;
  await waitUntil(async () => (await newestId(first.url, "trades", "BTCUSDT")) >= start + 50, 10_000, "rows");
  expect((await first.stop()).code).toBe(0);
  const ids = (await storedTradeIds(first.dataDir)).get("BTCUSDT")?.ids ?? [];
  const lastStored = Math.max(...ids);
  expect(ids.length).toBeGreaterThan(0);
  await Bun.sleep(300); // the market trades on while K2 is down
  const second = await startK2({ ...env, K2_DATA_DIR: first.dataDir });
  procs.push(second);
  const url = second.url;
  let gap: Gap | undefined;
  await waitUntil(
    async () => {
      gap = (await gapsOf(url, "BTCUSDT")).find((g) => g.table === "trades");
      return gap !== undefined;
    },
    10_000,
    "the downtime's gap in /v1/gaps",
  );
  expect(gap!.cause).toBe("restart");
  expect(gap!.from_id).toBe(lastStored + 1);
  expect(gap!.to_id).toBeGreaterThan(gap!.from_id);
  expect((await second.stop()).code).toBe(0);
}
