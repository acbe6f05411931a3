/**
 * The crash loop (moved from test/process/ingest.test.ts to keep the default suite under its
 * budget; CI runs it with make test-long): K2 SIGKILLed at 20 random moments against the simulator,
 * REST repair filling each downtime; at the end the stored ids equal the simulator's whole ground
 * truth, each once.
 */
import { expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import {
  expectWholeTruth,
  firstTradesDurable,
  pauseAndCatchUp,
  resumeWhenConnected,
  simEnv,
  waitUntil,
} from "../../test/support/bounded-run.ts";
import { startK2 } from "../../test/support/k2-process.ts";
import { processFixture } from "../../test/support/process-fixture.ts";

const run = processFixture();

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

test("SIGKILL at 20 random moments: after restarts the stored ids equal the ground truth", async () => {
  run.sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 100, seed: 5, faults: { paused: true } });
  const s = run.sim;
  let rnd = 12345;
  const next = () => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd / 2 ** 31;
  };
  const first = await startK2(simEnv(s, SYMBOLS));
  const dataDir = first.dataDir;
  run.onCleanup(() => first.cleanup());
  await resumeWhenConnected(s);
  await firstTradesDurable(s, dataDir, SYMBOLS);
  await first.stop("SIGKILL");
  for (let i = 0; i < 20; i++) {
    const p = await startK2(simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir }));
    await Bun.sleep(100 + Math.floor(next() * 700)); // mid-batch, mid-WAL, mid-rename: anywhere
    await p.stop("SIGKILL");
  }
  run.k2 = await startK2(simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir }));
  const url = run.k2.url;
  await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 8000, "ready");
  // Let gap repair of the downtimes finish, then stop cleanly.
  await waitUntil(
    async () => {
      const gaps = (await (await fetch(`${url}/v1/gaps?symbol=BTCUSDT`)).json()) as {
        data: { state: string }[];
      };
      return gaps.data.every((g) => g.state !== "pending" && g.state !== "repairing");
    },
    15_000,
    "gap repair to settle",
  );
  await pauseAndCatchUp(s, url, SYMBOLS);
  expect((await run.k2.stop()).code).toBe(0);
  const stored = await expectWholeTruth(dataDir, s, SYMBOLS);
  // The runs covered the simulator's whole history: restarts and repairs, not a sliver of it.
  expect(stored.get("trades:BTCUSDT")!.length).toBe(s.groundTruth().symbols.BTCUSDT!.tradeCount);
}, 120_000);
