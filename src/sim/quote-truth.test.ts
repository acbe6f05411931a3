/**
 * With recordQuoteIds the ground truth lists every bookTicker update id published — exactly what
 * a client on the stream received — also while nobody listens (a recorder away for a moment has
 * lost those), but not while stalled (nothing is published then); nothing without the option
 * (a long soak would hold one range per update).
 */
import { afterEach, expect, test } from "bun:test";
import { expandRanges, type Simulator, startSimulator } from "./index.ts";
import { connect, type TestClient, waitFor } from "./test-client.ts";

let sim: Simulator | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await sim?.stop();
  sim = undefined;
});

const quoteIds = (c: TestClient) =>
  (c.json() as { u?: number }[]).filter((f) => f.u !== undefined).map((f) => f.u!);

test("every update id published is the truth, listened to or not; none while stalled", async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT", "ETHUSDT"],
    ratePerSec: 500,
    tickMs: 5,
    recordQuoteIds: true,
    faults: { paused: true },
  });
  const s = sim;
  client = await connect(`${s.wsUrl}/ws/btcusdt@bookTicker`);
  s.faults.pause(false);
  await waitFor(() => quoteIds(client!).length >= 100, 5000, "100 quotes");
  s.faults.pause(true);
  const truth = s.groundTruth().symbols;
  await waitFor(() => quoteIds(client!).length === truth.BTCUSDT!.quoteCount, 5000, "every quote sent");
  expect(quoteIds(client)).toEqual(expandRanges(truth.BTCUSDT!.quoteIds));
  expect(truth.ETHUSDT!.quoteCount).toBeGreaterThan(50); // nobody subscribed: published all the same
  const before = s.groundTruth().symbols.BTCUSDT!.quoteCount;
  s.faults.stall(true);
  s.faults.pause(false);
  await waitFor(
    () => s.groundTruth().symbols.BTCUSDT!.tradeCount > truth.BTCUSDT!.tradeCount + 50,
    5000,
    "trades while stalled",
  );
  expect(s.groundTruth().symbols.BTCUSDT!.quoteCount).toBe(before);
});

test("off by default: no quote ids kept", async () => {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 500, tickMs: 5 });
  const s = sim;
  client = await connect(`${s.wsUrl}/ws/btcusdt@bookTicker`);
  await waitFor(() => quoteIds(client!).length >= 20, 5000, "20 quotes");
  expect(s.groundTruth().symbols.BTCUSDT!.quoteIds).toEqual([]);
});
