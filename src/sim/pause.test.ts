/**
 * The `paused` switch: the market stands still (no trades, no frames, ground truth unchanged) and
 * resumes on schedule without generating the paused time's backlog. Judged on the simulator's own
 * clock and trade times, not on how fast the machine is.
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "./index.ts";
import { connect, type TestClient, tradesOf, waitFor } from "./test-client.ts";

let sim: Simulator | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await sim?.stop();
  sim = undefined;
});

const count = (s: Simulator) => s.groundTruth().symbols.BTCUSDT!.tradeCount;

/** Trade times (µs) of ids [fromId, fromId + n) from REST. */
async function tradeTimesUs(s: Simulator, fromId: number, n: number): Promise<Map<number, number>> {
  const r = await fetch(`${s.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${fromId}&limit=${n}`, {
    headers: { "X-MBX-TIME-UNIT": "MICROSECOND" },
  });
  const rows = (await r.json()) as { id: number; time: number }[];
  return new Map(rows.map((x) => [x.id, x.time]));
}

test("started paused: nothing is generated or sent until resumed; then trades flow", async () => {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 2000, tickMs: 5, faults: { paused: true } });
  const s = sim;
  client = await connect(`${s.wsUrl}/ws/btcusdt@trade`);
  await Bun.sleep(200); // 400 trades would be due by now if the switch did nothing
  expect(count(s)).toBe(0);
  expect(tradesOf(client).length).toBe(0);
  expect(s.faults.get().paused).toBe(true);
  s.faults.pause(false);
  await waitFor(() => tradesOf(client!).length >= 50, 5000, "50 trades after resume");
  // The first trade anyone sees is the first id ever generated: the run is bounded exactly.
  expect(tradesOf(client)[0]!.t).toBe(s.options.startTradeId);
});

test("pause mid-run: ground truth stands still; resume continues the schedule without a burst", async () => {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 2000, tickMs: 5, startTradeId: 1 });
  const s = sim;
  await waitFor(() => count(s) >= 200, 5000, "200 trades");
  const pausedAtMs = s.nowMs();
  s.faults.pause(true);
  const lastBefore = count(s); // ids 1..lastBefore exist
  await Bun.sleep(300);
  expect(count(s)).toBe(lastBefore);
  const resumedAtMs = s.nowMs();
  s.faults.pause(false);
  await waitFor(() => count(s) >= lastBefore + 10, 5000, "trades after resume");
  const times = await tradeTimesUs(s, lastBefore, 2);
  const before = times.get(lastBefore)!;
  const after = times.get(lastBefore + 1)!;
  // Without the schedule shift, the trades due during the pause would all be generated at once,
  // stamped inside the paused interval (a burst): the step between the two would be ~1/rate.
  expect(after - before).toBeGreaterThanOrEqual((resumedAtMs - pausedAtMs - 2) * 1000);
});
