/**
 * The whole process against the simulator (a separate server on loopback): frames in, exactly-once
 * Parquet out, read back by DuckDB and compared with the simulator's whole ground truth for the run
 * (test/support/bounded-run.ts). The crash loop of 20 SIGKILLs is in test-long/process/sigkill-loop.long.ts
 * (make test-long, in CI); test/process/wal-replay.test.ts proves the WAL's part with REST down.
 */
import { describe, expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import {
  expectWholeTruth,
  pauseAndCatchUp,
  resumeWhenConnected,
  simEnv,
  waitUntil,
} from "../support/bounded-run.ts";
import { startK2 } from "../support/k2-process.ts";
import { processFixture } from "../support/process-fixture.ts";
import { scrapeMetric } from "../support/prometheus.ts";

const run = processFixture();

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

// Each WebSocket client (K2_WS_CLIENT): Bun's hands K2 strings, K2's own hands row frames over as
// the socket's bytes (decoded and written to the WAL with no string).
describe.each(["bun", "raw"])("K2 process (K2_WS_CLIENT=%s): simulator → Parquet, exactly once", (client) => {
  test("ingests, serves the rows over /v1, stores each trade once, drains on SIGTERM", async () => {
    run.sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 200, seed: 3, faults: { paused: true } });
    const s = run.sim;
    run.k2 = await startK2(simEnv(s, SYMBOLS, { K2_WS_CLIENT: client }));
    const url = run.k2.url;
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
    // Which way the rows came: every row frame as bytes with K2's client, none with Bun's.
    const asBytes = await scrapeMetric(url, "k2_frames_as_bytes_total");
    if (client === "raw") expect(asBytes).toBeGreaterThanOrEqual(300);
    else expect(asBytes).toBe(0);
    const { code } = await run.k2.stop();
    expect(code).toBe(0);
    const stored = await expectWholeTruth(run.k2.dataDir, s, SYMBOLS);
    expect(stored.get("trades:BTCUSDT")!.length).toBeGreaterThanOrEqual(300);
  }, 30_000);
});
