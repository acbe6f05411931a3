/**
 * Live kline reconciliation (issue 17 part 1) against the simulator over loopback: a real K2
 * process subscribes `<symbol>@kline_1m` beside the trades; the simulator's clock starts a few
 * seconds before a minute boundary, paused until K2 is connected, so the first closed minute is
 * one K2 saw whole. Three symbols, one minute each:
 * - BTCUSDT untouched → verified (stored count = n, OHLC and volumes reproduced);
 * - BNBUSDT with ids withheld from the socket (REST has them) → repaired;
 * - ETHUSDT with the kline's count falsified (+4) → mismatch, a `kline_mismatch` ledger entry and
 *   the alarm counter.
 * A minute K2 joins late (only the kline says ids are missing: kline_shortfall → repaired) is
 * test-long/completeness/kline-late-join.long.ts (another 8 s: kept out of the default suite).
 */
import { expect, test } from "bun:test";
import { readVerdicts } from "../../src/completeness/kline-verdicts.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { resumeWhenConnected, simEnv, waitUntil } from "../../test/support/bounded-run.ts";
import { gapsOf } from "../../test/support/gaps.ts";
import { startK2 } from "../../test/support/k2-process.ts";
import { processFixture } from "../../test/support/process-fixture.ts";

const BOUNDARY_MS = Date.UTC(2025, 0, 2, 0, 1);
const LEAD_MS = 6000;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
/** Each test passes its own timeout: under a loaded full suite the preloaded default has been seen at 5 s. */
const run = processFixture({ graceful: true });

test("closed minutes get verdicts: verified, repaired after withheld ids, mismatch on a false count", async () => {
  run.sim = await startSimulator({
    symbols: SYMBOLS,
    startTimeMs: BOUNDARY_MS - LEAD_MS,
    ratePerSec: 100,
    startTradeId: 1,
    faults: { paused: true },
  });
  // The archive is the simulator's (it publishes nothing here): tests never reach beyond loopback.
  run.k2 = await startK2(
    simEnv(run.sim, SYMBOLS, { K2_STREAMS: "trade,kline", K2_ARCHIVE_URL: run.sim.archiveUrl }),
  );
  await resumeWhenConnected(run.sim);
  run.sim.faults.klineCountOff(4, "ETHUSDT");
  await Bun.sleep(500);
  run.sim.faults.skipTradeIds(5, "BNBUSDT");
  const dir = run.k2.dataDir;
  const first = (s: string) => readVerdicts(dir, s, "2025-01-02").minutes.find((m) => m.trades > 0);
  await waitUntil(() => SYMBOLS.every((s) => first(s) !== undefined), 25_000, "a verdict per symbol");

  const btc = first("BTCUSDT")!;
  expect(btc.verdict).toBe("verified");
  expect(btc.open_time_us).toBe((BOUNDARY_MS - 60_000) * 1000);
  expect(btc.stored).toBe(btc.trades);
  expect(btc.last_id - btc.first_id + 1).toBe(btc.trades);

  const bnb = first("BNBUSDT")!;
  expect(bnb.verdict).toBe("repaired");
  expect(bnb.stored).toBe(bnb.trades);

  const eth = first("ETHUSDT")!;
  const falsified = run.sim.falsifiedKlines("ETHUSDT")[0]!;
  expect(eth.verdict).toBe("mismatch");
  expect(eth.trades).toBe(falsified.sentCount);
  expect(eth.stored).toBe(falsified.trueCount);
  const alarm = (await gapsOf(run.k2.url, "ETHUSDT")).find((g) => g.cause === "kline_mismatch");
  expect(alarm).toMatchObject({ from_id: eth.first_id, to_id: eth.last_id, state: "unrepaired" });
  const metrics = await (await fetch(`${run.k2.url}/metrics`)).text();
  expect(metrics).toMatch(/^k2_kline_alarms_total(\{\})? 1$/m);
  expect(Number(/^k2_kline_closed_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
  expect(metrics).toMatch(/^k2_frames_total\{status="not_configured"\} 0$/m);

  // The day's certificates carry the verdicts: nothing independent covers the whole (live) day
  // yet, so BTCUSDT is unverified; ETHUSDT's mismatch makes it incomplete.
  const cert = async (symbol: string) =>
    (await (await fetch(`${run.k2!.url}/v1/completeness?symbol=${symbol}&date=2025-01-02`)).json()) as {
      verdict: string;
      archive: { status: string };
      klines: { minutes: Record<string, number>; trades: number };
      alarms: { from_id: number }[];
    };
  const btcCert = await cert("BTCUSDT");
  expect(btcCert.verdict).toBe("unverified");
  expect(btcCert.archive.status).toBe("not_published");
  expect(btcCert.klines.minutes.verified).toBeGreaterThanOrEqual(1);
  expect(btcCert.klines.minutes.mismatch).toBe(0);
  const ethCert = await cert("ETHUSDT");
  expect(ethCert.verdict).toBe("incomplete");
  expect(ethCert.klines.minutes.mismatch).toBe(1);
  expect(ethCert.alarms.map((a) => a.from_id)).toEqual([eth.first_id]);
  const bad = await fetch(`${run.k2.url}/v1/completeness?symbol=BTCUSDT&date=2025-02-30`);
  expect(bad.status).toBe(400);
}, 40_000);
