/**
 * The whole process against the simulator (a separate server on loopback): frames in, exactly-once
 * Parquet out, read back by DuckDB and compared with the simulator's whole ground truth for the run
 * (test/support/bounded-run.ts). The crash loop of 20 SIGKILLs is in test-long/process/sigkill-loop.long.ts
 * (make test-long, in CI); test/process/wal-replay.test.ts proves the WAL's part with REST down.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import {
  expectWholeTruth,
  pauseAndCatchUp,
  resumeWhenConnected,
  simEnv,
  waitUntil,
} from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";

let sim: Simulator | undefined;
let k2: K2Process | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  k2?.cleanup();
  k2 = undefined;
  for (const c of cleanups.splice(0)) c();
  await sim?.stop();
  sim = undefined;
});

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

describe("K2 process: simulator → Parquet, exactly once", () => {
  test("ingests, serves the rows over /v1, stores each trade once, drains on SIGTERM", async () => {
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 200, seed: 3, faults: { paused: true } });
    const s = sim;
    k2 = await startK2(simEnv(s, SYMBOLS));
    const url = k2.url;
    await resumeWhenConnected(s);
    await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 8000, "ready");
    await waitUntil(
      async () => {
        const r = (await (await fetch(`${url}/v1/trades?symbol=BTCUSDT&limit=1000`)).json()) as {
          data: unknown[];
        };
        return r.data.length >= 300;
      },
      10_000,
      "300 BTCUSDT trades over the API",
    );
    await pauseAndCatchUp(s, url, SYMBOLS);
    const { code } = await k2.stop();
    expect(code).toBe(0);
    const stored = await expectWholeTruth(k2.dataDir, s, SYMBOLS);
    expect(stored.get("trades:BTCUSDT")!.length).toBeGreaterThanOrEqual(300);
  }, 30_000);
});
