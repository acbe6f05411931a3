/**
 * Missed kline minutes in the scale-out roles (docs/SCALING.md "Completeness in the roles"): every
 * recorder is down while a minute closes, so no kline of it ever reaches the bus. When the klines
 * go on after the hole, the writer fetches the minutes without a verdict from REST
 * `/api/v3/klines` (their trade ids from `aggTrades` by time), and judges them like live ones: the
 * trades nobody recorded are a shortfall the writer repairs from REST through its own bus subject.
 *
 * 3 NATS nodes, two recorders, one writer, the simulator's clock 20 s before a minute boundary:
 * minute 0 judged live; both recorders stopped for ~70 s across the boundary of minute 1; new
 * recorders from then on. Then: minute 1 has exactly one verdict, from REST ("missed on the
 * stream"), `repaired` with stored = its kline's count; the minute the recorders came back in
 * `repaired` too; after the market pauses the writer holds every trade id the simulator made, each
 * once. About three minutes.
 */
import { afterEach, expect, test } from "bun:test";
import { expectStored, truthOf } from "../../test/support/bounded-run.ts";
import { type ClusterRig, resumeWhenRecording, startClusterRig } from "../../test/support/cluster-rig.ts";
import { scrapeMetric } from "../../test/support/prometheus.ts";
import { storedTradeIds } from "../../test/support/stored.ts";
import { verdictLines } from "../../test/support/verdict-lines.ts";
import { waitUntil } from "../../test/support/wait.ts";

const START_MS = Date.UTC(2025, 0, 2, 0, 0, 40);
const DATE = "2025-01-02";
const MINUTE_US = 60_000_000;
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

let rig: ClusterRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const lines = (symbol: string) => verdictLines(rig!.dataDir, symbol, DATE);

test("minutes closed while every recorder was down: judged by the writer from REST, their trades repaired, every id once", async () => {
  rig = await startClusterRig(SYMBOLS, 20, ["--start-time-ms", String(START_MS), "--start-id", "1"]);
  const streams = { K2_STREAMS: "trade,kline" };
  const writer = await rig.writer(streams);
  const first = [await rig.recorder(streams), await rig.recorder(streams)];
  await resumeWhenRecording(rig, 2);

  // Minute 0 (open at 00:00) judged live for both symbols: the last verdict before the hole.
  const minute0 = Date.UTC(2025, 0, 2, 0, 0) * 1000;
  await waitUntil(
    () => SYMBOLS.every((s) => lines(s).some((v) => v.open_time_us === minute0)),
    60_000,
    "minute 0 judged for both symbols",
    { detail: () => writer.logs().slice(-3000), everyMs: 1000 },
  );
  for (const r of first) expect((await r.stop()).code).toBe(0);
  // Down across the close of minute 1 (00:02:00 on the simulator's clock, ~80 s after the start).
  const minute1 = minute0 + MINUTE_US;
  await waitUntil(
    async () => (await rig!.sim.stats()).connections === 0,
    10_000,
    "no recorder session left",
    {
      everyMs: 100,
    },
  );
  const downAt = Date.now();
  await Bun.sleep(70_000);
  await rig.recorder(streams);
  await rig.recorder(streams);
  const downMs = Date.now() - downAt;

  await waitUntil(
    () =>
      SYMBOLS.every(
        (s) =>
          lines(s).some((v) => v.open_time_us === minute1) &&
          lines(s).some((v) => v.open_time_us === minute1 + MINUTE_US),
      ),
    150_000,
    "minute 1 (missed) and minute 2 (the recorders' return) judged for both symbols",
    { detail: () => writer.logs().slice(-4000), everyMs: 1000 },
  );
  for (const s of SYMBOLS) {
    const all = lines(s);
    const opens = all.map((v) => v.open_time_us);
    expect(opens.length).toBe(new Set(opens).size);
    const missed = all.find((v) => v.open_time_us === minute1)!;
    // No recorder saw a trade of minute 1: the writer fetched every one of them.
    expect(missed).toMatchObject({ verdict: "repaired", stored: missed.trades });
    expect(missed.trades).toBeGreaterThan(0);
    expect(missed.last_id - missed.first_id + 1).toBe(missed.trades);
    expect(missed.detail).toContain("REST kline (missed on the stream)");
    const back = all.find((v) => v.open_time_us === minute1 + MINUTE_US)!;
    expect(back).toMatchObject({ verdict: "repaired", stored: back.trades });
  }
  expect(await scrapeMetric(writer.url, "k2_kline_missed_total")).toBe(SYMBOLS.length);

  // The whole truth once: every id the simulator made, including those nobody recorded live.
  await rig.sim.pause(true);
  const truth = truthOf(await rig.sim.groundTruth(), SYMBOLS, ["trades"]);
  await waitUntil(
    async () => {
      const stored = await storedTradeIds(rig!.dataDir);
      return SYMBOLS.every((s) => (stored.get(s)?.distinct ?? 0) >= truth.get(`trades:${s}`)!.length);
    },
    30_000,
    "the writer stores every trade the simulator made",
    { everyMs: 500 },
  );
  await expectStored(rig.dataDir, truth);
  console.log(
    `kline-missed-roles: recorders down ${(downMs / 1000).toFixed(0)} s; minute 1 judged from REST for ${SYMBOLS.length} symbols ` +
      `(${lines("BTCUSDT").find((v) => v.open_time_us === minute1)!.trades} + ` +
      `${lines("ETHUSDT").find((v) => v.open_time_us === minute1)!.trades} trades, repaired), ` +
      `${await scrapeMetric(writer.url, "k2_kline_repair_rows_total")} rows from REST by the writer`,
  );
  expect((await writer.stop()).code).toBe(0);
}, 330_000);
