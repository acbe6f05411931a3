/**
 * Issue 17's kline reconciliation in the scale-out roles (docs/SCALING.md "Completeness in the
 * roles"), on a private 3-node JetStream cluster with the simulator as the exchange: two
 * recorders subscribe `<symbol>@kline_1m` beside the trades and publish each closed kline on the
 * bus; the one writer judges each minute against the trades in its committed files and writes the
 * verdicts to the shared folder; the query node's `/v1/completeness` reads them.
 *
 * - ETHUSDT with 5 trade ids withheld from the sockets while the recorders may not repair them
 *   (K2_GAP_MAX_IDS=1: a 5-id gap is ledgered unrepaired there): the writer repairs the minute's
 *   shortfall from REST itself (its rows published on its shard's subject, stored by its consumer),
 *   so that minute is `repaired` (stored = the kline's count), the hole's ids stored once, every
 *   other minute `verified`;
 * - BTCUSDT with one kline counting 2 trades more than exist (no id missing: nothing to repair):
 *   that minute a `mismatch` with the alarm, every other minute `verified`;
 * - both recorders published every kline, yet each minute has exactly one verdict line, and the
 *   writer counted the second copies as dropped;
 * - the query node's certificates carry the verdicts, and with `spot_checks=2` compare two pages
 *   of the simulator's REST trades with the stored rows (all equal).
 * The simulator's clock starts 20 s before a minute boundary (it runs at wall speed), so the
 * test takes about two minutes (two closed minutes per symbol).
 */
import { afterEach, expect, test } from "bun:test";
import type { Certificate } from "../../src/completeness/index.ts";
import type { MinuteVerdict } from "../../src/completeness/kline-verdicts.ts";
import { type ClusterRig, resumeWhenRecording, startClusterRig } from "../../test/support/cluster-rig.ts";
import { scrapeMetric } from "../../test/support/prometheus.ts";
import { storedTradeIds } from "../../test/support/stored.ts";
import { verdictLines } from "../../test/support/verdict-lines.ts";
import { waitUntil } from "../../test/support/wait.ts";

const START_MS = Date.UTC(2025, 0, 2, 0, 0, 40);
const DATE = "2025-01-02";
const SKIPPED = 5;

let rig: ClusterRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const lines = (symbol: string) => verdictLines(rig!.dataDir, symbol, DATE);

test("kline verdicts in the roles: a shortfall repaired by the writer from REST, a mismatch, each minute judged once, REST spot checks on the query node", async () => {
  rig = await startClusterRig(["BTCUSDT", "ETHUSDT"], 20, [
    "--start-time-ms",
    String(START_MS),
    "--start-id",
    "1",
  ]);
  const streams = { K2_STREAMS: "trade,kline" };
  const writer = await rig.writer(streams);
  const query = await rig.query(streams);
  const recorders = [
    await rig.recorder({ ...streams, K2_GAP_MAX_IDS: "1" }),
    await rig.recorder({ ...streams, K2_GAP_MAX_IDS: "1" }),
  ];
  await resumeWhenRecording(rig, 2);
  await Bun.sleep(1000);
  await rig.sim.fault({ skipTradeIds: { count: SKIPPED, symbol: "ETHUSDT" } });
  await rig.sim.fault({ klineCountOff: { delta: 2, symbol: "BTCUSDT" } });

  // The ETHUSDT ids the recorders never deliver: a hole of SKIPPED ids in the writer's files
  // until the writer's own repair fills it.
  let hole: [number, number] | undefined;
  await waitUntil(
    async () => {
      const ids = (await storedTradeIds(rig!.dataDir).catch(() => new Map())).get("ETHUSDT")?.ids ?? [];
      for (let i = 1; i < ids.length; i++)
        if (ids[i]! - ids[i - 1]! > 1) hole = [ids[i - 1]! + 1, ids[i]! - 1];
      return hole !== undefined;
    },
    30_000,
    "the withheld ETHUSDT ids missing in the writer's files",
    { everyMs: 1000 },
  );
  // Whole aggTrades are withheld: at least SKIPPED ids.
  const missing = hole![1] - hole![0] + 1;
  expect(missing).toBeGreaterThanOrEqual(SKIPPED);
  const holds = (v: MinuteVerdict) => v.first_id <= hole![0] && v.last_id >= hole![1];
  await waitUntil(
    () =>
      lines("BTCUSDT").filter((v) => v.trades > 0).length >= 2 &&
      lines("BTCUSDT").some((v) => v.verdict === "mismatch") &&
      lines("ETHUSDT").some(holds) &&
      lines("ETHUSDT").some((v) => v.trades > 0 && !holds(v)),
    180_000,
    "two BTCUSDT minutes judged (one the miscounted kline), the ETHUSDT minute with the hole and one without",
    { detail: () => writer.logs().slice(-3000), everyMs: 1000 },
  );

  const btc = lines("BTCUSDT").filter((v) => v.trades > 0);
  const eth = lines("ETHUSDT").filter((v) => v.trades > 0);
  const off = btc.filter((v) => v.verdict === "mismatch");
  expect(off.length).toBe(1);
  // The kline claims 2 trades its id range does not hold: stored = the ids, count = ids + 2.
  expect(off[0]!.stored).toBe(off[0]!.last_id - off[0]!.first_id + 1);
  expect(off[0]!.trades).toBe(off[0]!.stored + 2);
  for (const v of btc.filter((x) => x !== off[0])) {
    expect(v).toMatchObject({ verdict: "verified", stored: v.trades });
    expect(v.last_id - v.first_id + 1).toBe(v.trades);
  }
  const fixed = eth.find(holds)!;
  expect(fixed).toMatchObject({ verdict: "repaired", stored: fixed.trades, detail: "stored after a repair" });
  for (const v of eth.filter((x) => !holds(x)))
    expect(v).toMatchObject({ verdict: "verified", stored: v.trades });
  // The writer fetched the hole from REST and its consumer stored each id once.
  expect(await scrapeMetric(writer.url, "k2_kline_repair_rows_total")).toBeGreaterThanOrEqual(missing);
  const stored = (await storedTradeIds(rig.dataDir)).get("ETHUSDT")!;
  expect(stored.rows).toBe(stored.distinct);
  for (let id = hole![0]; id <= hole![1]; id++) expect(stored.ids).toContain(id);

  // Judged once: one line per minute although both recorders published each kline.
  for (const s of ["BTCUSDT", "ETHUSDT"]) {
    const opens = lines(s).map((v) => v.open_time_us);
    expect(opens.length).toBe(new Set(opens).size);
  }
  for (const r of recorders)
    expect(await scrapeMetric(r.url, "k2_bus_klines_published_total")).toBeGreaterThanOrEqual(2);
  const judged = lines("BTCUSDT").length + lines("ETHUSDT").length;
  expect(await scrapeMetric(writer.url, "k2_kline_duplicates_dropped_total")).toBeGreaterThanOrEqual(judged);
  expect(await scrapeMetric(writer.url, "k2_kline_alarms_total")).toBe(1);

  // The query node's certificates carry the writer's verdicts; REST spot checks when asked.
  const cert = async (symbol: string, spot = 0) => {
    const r = await fetch(`${query.url}/v1/completeness?symbol=${symbol}&date=${DATE}&spot_checks=${spot}`);
    expect(r.status).toBe(200);
    return (await r.json()) as Certificate;
  };
  const btcCert = await cert("BTCUSDT");
  expect(btcCert.klines?.minutes.verified).toBeGreaterThanOrEqual(btc.length - 1);
  expect(btcCert.klines?.minutes.mismatch).toBe(1);
  expect(btcCert.reasons.join("\n")).toContain("1 minutes' klines disagree with the stored trades");
  expect(btcCert.rest).toBeNull();
  const ethCert = await cert("ETHUSDT", 2);
  expect(ethCert.klines?.minutes.repaired).toBe(1);
  expect(ethCert.klines?.minutes.mismatch).toBe(0);
  expect(ethCert.rest).toMatchObject({ pages: 2, differences: [] });
  expect(ethCert.rest?.error).toBeUndefined();
  expect(ethCert.rest!.rows_compared).toBeGreaterThan(0);

  console.log(
    `kline-roles: ETHUSDT ${eth.length - 1} verified + 1 repaired by the writer (${missing} ids from REST), ` +
      `BTCUSDT ${btc.length - 1} verified + 1 mismatch, ` +
      `${await scrapeMetric(writer.url, "k2_kline_duplicates_dropped_total")} second copies dropped, ` +
      `spot check ${ethCert.rest!.rows_compared} rows equal`,
  );
  for (const r of recorders) expect((await r.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
}, 240_000);
