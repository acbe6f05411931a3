import { afterEach, describe, expect, test } from "bun:test";
import { wholeTruth } from "../support/bounded-run.ts";
import { type Harness, startHarness } from "../support/source-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Every id of the run reached the ring exactly once: the whole ground truth, not a window of it. */
function expectComplete(hh: Harness, table: "trades" | "agg_trades", symbol: string) {
  const ids = hh.ids(table, symbol);
  expect(ids.length).toBeGreaterThan(0);
  expect(ids).toEqual(wholeTruth(hh.sim, table, symbol));
  expect(hh.repeats).toEqual([]);
}

describe("source → ring against the simulator", () => {
  test("3 symbols × trade+aggTrade+bookTicker: every trade id reaches the ring exactly once", async () => {
    h = await startHarness({ sim: { ratePerSec: 200, seed: 11 } });
    const hh = h;
    await hh.waitFor(() => (hh.seen.get("trades:BNBUSDT")?.length ?? 0) > 300, 10_000, "300 BNB trades");
    await hh.catchUp();
    for (const s of ["BTCUSDT", "ETHUSDT", "BNBUSDT"]) {
      expectComplete(hh, "trades", s);
      expectComplete(hh, "agg_trades", s);
      expect(hh.seen.get(`quotes:${s}`)?.length ?? 0).toBeGreaterThan(0);
    }
    expect(hh.ledger.entries()).toEqual([]);
    expect(hh.ingest.deps.deadLetters.size).toBe(0);
  });

  test("streams are sharded across connections when the per-connection limit is low", async () => {
    h = await startHarness({ streamsPerConnection: 2, kinds: ["trade", "aggTrade"] });
    const hh = h;
    expect(hh.source.shardCount).toBe(3);
    await hh.waitFor(() => hh.source.shardStatus().every((s) => s.open), 5000, "3 open shards");
    await hh.waitFor(() => (hh.seen.get("trades:BNBUSDT")?.length ?? 0) > 20, 5000, "BNB trades");
    await hh.catchUp();
    for (const s of ["BTCUSDT", "ETHUSDT", "BNBUSDT"]) expectComplete(hh, "trades", s);
  });
});
