/**
 * The whole process against the simulator (a separate server on loopback): frames in, exactly-once
 * Parquet out, read back by DuckDB and compared with the simulator's whole ground truth for the run
 * (test/support/bounded-run.ts); then a crash loop of SIGKILLs at random moments, with REST repair
 * filling each downtime. test/process/wal-replay.test.ts proves the WAL's part with REST down.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import {
  expectWholeTruth,
  firstTradesDurable,
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

  test("SIGKILL at 20 random moments: after restarts the stored ids equal the ground truth", async () => {
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 100, seed: 5, faults: { paused: true } });
    const s = sim;
    let rnd = 12345;
    const next = () => {
      rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
      return rnd / 2 ** 31;
    };
    const first = await startK2(simEnv(s, SYMBOLS));
    const dataDir = first.dataDir;
    cleanups.push(() => first.cleanup());
    await resumeWhenConnected(s);
    await firstTradesDurable(s, dataDir, SYMBOLS);
    await first.stop("SIGKILL");
    for (let i = 0; i < 20; i++) {
      const p = await startK2(simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir }));
      await Bun.sleep(100 + Math.floor(next() * 700)); // mid-batch, mid-WAL, mid-rename: anywhere
      await p.stop("SIGKILL");
    }
    k2 = await startK2(simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir }));
    const url = k2.url;
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
    expect((await k2.stop()).code).toBe(0);
    const stored = await expectWholeTruth(dataDir, s, SYMBOLS);
    // The runs covered the simulator's whole history: restarts and repairs, not a sliver of it.
    expect(stored.get("trades:BTCUSDT")!.length).toBe(s.groundTruth().symbols.BTCUSDT!.tradeCount);
  }, 120_000);
});
