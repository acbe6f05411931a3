import { afterEach, describe, expect, test } from "bun:test";
import { deliverableIds, type Harness, startHarness } from "../support/source-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Every deliverable id between the first and the last one seen reached the ring exactly once. */
function expectComplete(hh: Harness, table: "trades" | "agg_trades", symbol: string) {
  const ids = hh.ids(table, symbol);
  expect(ids.length).toBeGreaterThan(0);
  const first = ids[0]!;
  const last = ids[ids.length - 1]!;
  if (table === "trades") expect(ids).toEqual(deliverableIds(hh.sim, symbol, first, last));
  else for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1]! + 1);
  expect(hh.repeats).toEqual([]);
  return { first, last, count: ids.length };
}

describe("source → ring against the simulator", () => {
  test("3 symbols × trade+aggTrade+bookTicker: every trade id reaches the ring exactly once", async () => {
    h = await startHarness({ sim: { ratePerSec: 200, seed: 11 } });
    const hh = h;
    await hh.waitFor(() => (hh.seen.get("trades:BNBUSDT")?.length ?? 0) > 300, 10_000, "300 BNB trades");
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
    for (const s of ["BTCUSDT", "ETHUSDT", "BNBUSDT"]) expectComplete(hh, "trades", s);
  });
});
