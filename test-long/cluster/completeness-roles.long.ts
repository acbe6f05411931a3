/**
 * Issue 17's completeness in the scale-out roles (docs/SCALING.md "Completeness in the roles"), on
 * a private 3-node JetStream cluster with the simulator as the exchange and its public archive:
 *
 * - `k2 backfill` into the writers' shared folder: the writer owning the symbol's shard adopts the
 *   files (its log says so), a query node serves the archived hour, and archived rows the bus
 *   brings again (as a recorder's late repair or WAL replay would) are dropped as stored: every
 *   id once, counted by DuckDB;
 * - `/v1/completeness` on the query node and `k2 verify` on the shared folder: the backfilled day
 *   `complete` (the archive holds exactly the stored rows), a day not backfilled `incomplete` with
 *   exactly the archive's ids missing, the live day `unverified`; each says it had no gap ledger.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import type { ArchiveFile } from "../../src/archive/index.ts";
import { encodeRows, subjectOf } from "../../src/bus/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import type { Certificate } from "../../src/completeness/index.ts";
import { archiveLines, closeReader, storedLines } from "../../test/backfill/archive-rig.ts";
import { tradeRows } from "../../test/sink/parquet.case.ts";
import { type ClusterRig, resumeWhenRecording, startClusterRig } from "../../test/support/cluster-rig.ts";
import { ROOT } from "../../test/support/k2-process.ts";
import { waitUntil } from "../../test/support/wait.ts";

let rig: ClusterRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
afterAll(() => closeReader());

const counter = async (url: string, name: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
};

const archived = (date: string): ArchiveFile => ({
  dataset: "trades",
  period: "daily",
  symbol: "BTCUSDT",
  date,
});

test("backfill into a cluster's folder: adopted by the shard's writer, served, every id once; certificates on the query node", async () => {
  // Two archived days (2024-12-31, 2025-01-01) before a live market starting 2025-01-02 06:00.
  rig = await startClusterRig(
    ["BTCUSDT"],
    20,
    [
      ["--start-time-ms", String(Date.UTC(2025, 0, 2, 6))],
      ["--archive-days", "2"],
      ["--archive-rate", "0.02"],
      ["--start-id", "1"],
      ["--start-agg-id", "1"],
    ].flat(),
  );
  const archiveRoot = `${rig.sim.restUrl}/archive`;
  const writer = await rig.writer({ K2_MAINTENANCE_INTERVAL_MS: "500" });
  const query = await rig.query({ K2_ARCHIVE_URL: archiveRoot });
  const recorder = await rig.recorder();
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(1500);

  const lines: string[] = [];
  const code = await runBackfillCli(
    [
      ["--symbols", "BTCUSDT"],
      ["--tables", "trades"],
      ["--from", "2024-12-31"],
      ["--to", "2024-12-31"],
      ["--data-dir", rig.dataDir],
    ].flat(),
    { env: { K2_ARCHIVE_URL: archiveRoot }, isTty: false, out: () => {}, error: (l) => lines.push(l) },
  );
  expect({ code, lines }).toMatchObject({ code: 0 });
  await waitUntil(
    () => /"msg":"backfill files adopted"/.test(writer.logs()),
    10_000,
    "the shard's writer adopts the backfill's files",
    { detail: () => writer.logs().slice(-2000) },
  );

  // The query node serves the archived hour (it lists the shared folder).
  const day = await archiveLines(archiveRoot, archived("2024-12-31"));
  const idOf = (l: string) => Number(l.split(",")[0]);
  const hourEndUs = BigInt(Date.UTC(2024, 11, 31, 1)) * 1000n;
  const wantHour = day.filter((l) => BigInt(l.split(",")[3]!) < hourEndUs).map(idOf);
  const served = async () => {
    const r = await fetch(
      `${query.url}/v1/trades?symbol=BTCUSDT&start=2024-12-31T00:00:00&end=2024-12-31T01:00:00&limit=10000`,
    );
    if (r.status !== 200) return [];
    return ((await r.json()) as { data: { trade_id: number }[] }).data.map((t) => Number(t.trade_id));
  };
  await waitUntil(
    async () => (await served()).length > 0,
    10_000,
    "the archived hour served by the query node",
  );
  expect(await served()).toEqual(wantHour);

  // The bus brings the day's first five ids again: the writer finds them stored and drops them.
  // A quiet stream first: the market paused and its newest trade stored.
  await rig.sim.pause(true);
  const newest = (await rig.sim.groundTruth()).symbols.BTCUSDT!.tradeIds.at(-1)![1];
  await waitUntil(
    async () =>
      (await storedLines(rig!.dataDir, "trades", "BTCUSDT")).lines.some((l) => l.startsWith(`${newest},`)),
    15_000,
    "the newest live trade stored",
  );
  await Bun.sleep(500);
  const before = await counter(writer.url, "k2_bus_messages_total");
  const dupBefore = await counter(writer.url, "k2_duplicates_dropped_total");
  const again = tradeRows(5, 0, 1, Date.UTC(2024, 11, 31, 0, 30) * 1000);
  const nc = await rig.nats.connect();
  try {
    await jetstream(nc).publish(subjectOf("trades", "BTCUSDT", 1), encodeRows(again, 0, 5, "trades"));
  } finally {
    await nc.close();
  }
  await waitUntil(
    async () => (await counter(writer.url, "k2_bus_messages_total")) > before,
    15_000,
    "the writer handles the repeated rows",
  );
  expect((await counter(writer.url, "k2_duplicates_dropped_total")) - dupBefore).toBe(5);
  const stored = await storedLines(rig.dataDir, "trades", "BTCUSDT");
  expect(stored.rows).toBe(stored.distinct);
  const lastArchivedDay1 = idOf(day.at(-1)!);
  const ids = stored.lines.map(idOf);
  expect(ids.slice(0, lastArchivedDay1)).toEqual(Array.from({ length: lastArchivedDay1 }, (_, i) => i + 1));

  // Certificates from the shared folder alone.
  const cert = async (date: string) => {
    const r = await fetch(`${query.url}/v1/completeness?symbol=BTCUSDT&date=${date}`);
    expect(r.status).toBe(200);
    return (await r.json()) as Certificate;
  };
  const done = await cert("2024-12-31");
  expect(done).toMatchObject({ verdict: "complete", gap_ledger: "absent", reasons: [] });
  expect(done.stored.rows).toBe(day.length);
  expect(done.stored.missing).toEqual([]);
  const day2 = (await archiveLines(archiveRoot, archived("2025-01-01"))).map(idOf);
  const notDone = await cert("2025-01-01");
  expect(notDone.verdict).toBe("incomplete");
  expect(notDone.stored.rows).toBe(0);
  expect(notDone.stored.missing).toEqual([{ from_id: day2[0]!, to_id: day2.at(-1)!, causes: [] }]);
  expect(notDone.reasons.join("\n")).toContain("no gap ledger here");
  const live = await cert("2025-01-02");
  expect(live.verdict).toBe("unverified");
  expect(live.archive.status).toBe("not_published");
  // The live day as recorded: from the recorder's first trade to the newest, no hole.
  const firstLive = ids.find((id) => id > lastArchivedDay1)!;
  expect(firstLive).toBeGreaterThan(day2.at(-1)!);
  expect(live.stored).toMatchObject({
    first_id: firstLive,
    last_id: newest,
    rows: newest - firstLive + 1,
    missing: [],
  });

  // `k2 verify` on the writers' folder says the same of the day not backfilled.
  const v = Bun.spawn(
    [
      process.execPath,
      "run",
      "src/main.ts",
      "verify",
      ["--date", "2025-01-01"],
      ["--symbols", "BTCUSDT"],
      ["--data-dir", rig.dataDir],
      ["--archive-url", archiveRoot],
      "--json",
    ].flat(),
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  const [out, vcode] = await Promise.all([new Response(v.stdout).text(), v.exited]);
  expect(vcode).toBe(1);
  const vc = JSON.parse(out.trim()) as Certificate;
  expect(vc).toMatchObject({ verdict: "incomplete", gap_ledger: "absent" });
  expect(vc.stored.missing).toEqual(notDone.stored.missing);

  expect((await recorder.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
}, 120_000);
