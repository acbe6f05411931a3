/**
 * `k2 backfill --source rest` of today beside a running K2 that records the same market live:
 * the REST run fills the day from midnight and overlaps what K2 already stored; the ids K2 stored
 * are not written again, and once K2 stopped, every trade id of the day — from REST and live —
 * is stored exactly once, without a hole, equal to what the simulator's REST serves.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fileLine, planJobs, runRestBackfill } from "../../src/backfill/index.ts";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { archiveLines, closeReader, storedLines } from "../../test/backfill/archive-rig.ts";
import { startK2 } from "../../test/support/k2-process.ts";
import { waitUntil } from "../../test/support/wait.ts";

const CLOCK_START_MS = Date.UTC(2025, 0, 2, 6);
const TODAY = "2025-01-02";
/** K2 flushes every 200 ms; the REST run stays this far behind the clock (rest-page.ts). */
const MARGIN_MS = 1500;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: CLOCK_START_MS,
    archiveDays: 1,
    archiveRatePerSec: 0.02,
    ratePerSec: 20,
    startTradeId: 0,
    startAggId: 0,
  });
});
afterAll(() => {
  sim.stop();
  closeReader();
});

test("today from REST beside a live K2: the ids K2 stored are not written again; every id of the day once", async () => {
  const k = await startK2({
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: sim.wsUrl,
    K2_BINANCE_REST_URL: sim.restUrl,
    K2_SYMBOLS: "BTCUSDT",
    K2_STREAMS: "trade",
    K2_FLUSH_INTERVAL_MS: "200",
    K2_MAINTENANCE_INTERVAL_MS: "200",
    K2_CONNECT_MIN_INTERVAL_MS: "0",
  });
  try {
    // K2 has stored more than the margin's worth of live trades: the REST run will overlap them.
    const liveSpanUs = async () => {
      const s = await storedLines(k.dataDir, "trades", "BTCUSDT");
      if (s.rows < 2) return 0;
      return Number(s.lines.at(-1)!.split(",")[3]) - Number(s.lines[0]!.split(",")[3]);
    };
    await waitUntil(
      async () => (await liveSpanUs()) > 3 * MARGIN_MS * 1000,
      15_000,
      "live trades in Parquet",
      {
        detail: () => k.logs().slice(-2000),
      },
    );

    const lines: string[] = [];
    const s = await runRestBackfill({
      dataDir: k.dataDir,
      restUrl: sim.restUrl,
      weightBudgetPerMin: 6000,
      jobs: planJobs(["BTCUSDT"], ["trades"], TODAY, TODAY),
      concurrency: 1,
      openDayMarginMs: MARGIN_MS,
      onFile: (o) => lines.push(fileLine(o)),
    });
    expect(s.failed).toBe(0);
    const m = /: landed (\d+) rows \((\d+) new, (\d+) already stored\)/.exec(lines[0]!);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0); // the morning before K2 started
    expect(Number(m![3])).toBeGreaterThan(0); // what K2 had stored by then

    // K2 goes on a moment, then stops (flushing what it holds): every id of the day once.
    await Bun.sleep(500);
    expect((await k.stop()).code).toBe(0);
    const stored = await storedLines(k.dataDir, "trades", "BTCUSDT");
    expect(stored.rows).toBe(stored.distinct);
    const yesterday = await archiveLines(sim.archiveUrl, {
      dataset: "trades",
      period: "daily",
      symbol: "BTCUSDT",
      date: "2025-01-01",
    });
    const first = Number(yesterday.at(-1)!.split(",")[0]) + 1;
    const ids = stored.lines.map((l) => Number(l.split(",")[0]));
    expect(ids[0]).toBe(first);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => first + i));
    // Values equal to what REST serves for those ids.
    const res = await fetch(
      `${sim.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${first}&limit=${Math.min(1000, ids.length)}`,
      { headers: { "X-MBX-TIME-UNIT": "MICROSECOND" } },
    );
    const truth = (
      (await res.json()) as { id: number; price: string; qty: string; time: number; isBuyerMaker: boolean }[]
    ).map((t) => `${t.id},${t.price},${t.qty},${t.time},${t.isBuyerMaker ? "True" : "False"}`);
    expect(stored.lines.slice(0, truth.length)).toEqual(truth);
  } finally {
    k.cleanup();
    await k.proc.exited;
  }
}, 40_000);
