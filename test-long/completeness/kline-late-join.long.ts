/**
 * Live kline reconciliation, the shortfall only a kline reveals (issue 17 part 1): the market
 * trades from the clock start, a few seconds before a minute boundary, and a K2 process connects a
 * second or so later, so its first trade is not id 1. Nothing on the socket says ids are missing;
 * the closed minute's kline does (`f` = 1). Those ids are ledgered `kline_shortfall`, repaired from
 * REST, and the minute is judged `repaired`. ~8 s (a minute must close): a long test.
 */
import { expect, test } from "bun:test";
import { readVerdicts } from "../../src/completeness/kline-verdicts.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "../../test/support/bounded-run.ts";
import { gapsOf } from "../../test/support/gaps.ts";
import { startK2 } from "../../test/support/k2-process.ts";
import { processFixture } from "../../test/support/process-fixture.ts";

const BOUNDARY_MS = Date.UTC(2025, 0, 2, 0, 1);
const LEAD_MS = 6000;
const run = processFixture({ graceful: true });
test("a minute K2 joined late: the kline names ids K2 never saw, they are ledgered kline_shortfall, repaired, and the minute is repaired", async () => {
  // Not paused: the market trades from the clock start, K2 connects a second or so later and its
  // first trade is not id 1. Nothing on the socket says ids are missing; only the kline does.
  run.sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: BOUNDARY_MS - LEAD_MS,
    ratePerSec: 100,
    startTradeId: 1,
  });
  run.k2 = await startK2(
    simEnv(run.sim, ["BTCUSDT"], { K2_STREAMS: "trade,kline", K2_ARCHIVE_URL: run.sim.archiveUrl }),
  );
  const dir = run.k2.dataDir;
  const first = () => readVerdicts(dir, "BTCUSDT", "2025-01-02").minutes.find((m) => m.trades > 0);
  await waitUntil(() => first() !== undefined, 25_000, "the first minute's verdict");
  const v = first()!;
  expect(v.verdict).toBe("repaired");
  expect(v.first_id).toBe(1);
  expect(v.stored).toBe(v.trades);
  const shortfall = (await gapsOf(run.k2.url, "BTCUSDT")).filter((g) => g.cause === "kline_shortfall");
  expect(shortfall.length).toBe(1);
  expect(shortfall[0]).toMatchObject({ from_id: 1, state: "repaired" });
  expect(shortfall[0]!.to_id).toBeLessThan(v.last_id);
}, 40_000);
