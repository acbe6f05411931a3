/**
 * Kline minutes the stream did not give (issue 17): K2 judges a minute, stops, stays down for a
 * whole minute, and starts again on the same data folder. The minute it missed has no kline on
 * the stream; after the start K2 fetches it from REST (GET /api/v3/klines: count and OHLCV), finds
 * its trade ids from aggTrades by time, and judges it once the restart gap is repaired: `repaired`,
 * every trade of the minute stored, its ids those of the trades stored in that minute.
 * ~75 s (a minute must pass with K2 down): a long test.
 */
import { expect, test } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { readVerdicts } from "../../src/completeness/kline-verdicts.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { resumeWhenConnected, simEnv, waitUntil } from "../../test/support/bounded-run.ts";
import { startK2 } from "../../test/support/k2-process.ts";
import { processFixture } from "../../test/support/process-fixture.ts";

const BOUNDARY_MS = Date.UTC(2025, 0, 2, 0, 1);
const LEAD_MS = 4000;
const run = processFixture({ graceful: true });

test("a minute K2 was down for is judged from REST after the restart: repaired, every trade stored", async () => {
  run.sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: BOUNDARY_MS - LEAD_MS,
    ratePerSec: 40,
    startTradeId: 1,
    faults: { paused: true },
  });
  const s = run.sim;
  const env = simEnv(s, ["BTCUSDT"], { K2_STREAMS: "trade,kline", K2_ARCHIVE_URL: s.archiveUrl });
  run.k2 = await startK2(env);
  const dir = run.k2.dataDir;
  run.removeAfter(dir); // the second K2 is handed the folder: its cleanup leaves it
  await resumeWhenConnected(s);
  const verdicts = () => readVerdicts(dir, "BTCUSDT", "2025-01-02").minutes;
  await waitUntil(() => verdicts().length > 0, 20_000, "the first minute's verdict");
  const before = verdicts()[0]!;
  expect(before.verdict).toBe("verified");
  expect(before.open_time_us).toBe((BOUNDARY_MS - 60_000) * 1000);

  // Down for the whole next minute: its kline goes out while nobody listens.
  expect((await run.k2.stop()).code).toBe(0);
  const downOpenUs = BOUNDARY_MS * 1000;
  await waitUntil(() => s.nowMs() > BOUNDARY_MS + 61_000, 70_000, "the minute K2 is down for to close");
  run.k2 = await startK2({ ...env, K2_DATA_DIR: dir });
  const down = () => verdicts().find((m) => m.open_time_us === downOpenUs);
  await waitUntil(() => down() !== undefined, 40_000, "a verdict for the minute K2 missed", {
    detail: () =>
      run
        .k2!.logs()
        .split("\n")
        .filter((l) => /kline|gap|repair/.test(l))
        .slice(-10)
        .join("\n"),
  });
  const v = down()!;
  expect(v.detail).toContain("REST kline");
  expect(v.verdict).toBe("repaired"); // the restart gap covered its ids, repaired from REST
  expect(v.trades).toBeGreaterThan(20);
  expect(v.stored).toBe(v.trades);

  // The ids REST gave are exactly those of the trades stored in that minute (DuckDB reads the files).
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  const row = (
    await con.runAndReadAll(
      `SELECT min(trade_id)::BIGINT AS f, max(trade_id)::BIGINT AS l, count(*)::BIGINT AS n
       FROM read_parquet('${dir}/trades/**/*.parquet', hive_partitioning = false)
       WHERE epoch_us(trade_time_us) BETWEEN ${downOpenUs} AND ${downOpenUs + 59_999_999}`,
    )
  ).getRowObjects()[0] as { f: bigint; l: bigint; n: bigint };
  con.closeSync();
  db.closeSync();
  expect({ f: Number(row.f), l: Number(row.l), n: Number(row.n) }).toEqual({
    f: v.first_id,
    l: v.last_id,
    n: v.trades,
  });
}, 150_000);
