/**
 * `k2 backfill` beside a running K2 that ingests the same market live: the backfill, a second
 * process here, commits its files into K2's data folder; K2 adopts them at its next maintenance
 * pass (catalog/adopt.ts) and serves the archived day from its API, and every trade id — archive
 * days and live — is stored once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ArchiveFile } from "../../src/archive/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { startK2 } from "../support/k2-process.ts";
import { waitUntil } from "../support/wait.ts";
import { archiveLines, closeReader, storedLines } from "./archive-rig.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: Date.UTC(2025, 0, 2, 6),
    archiveDays: 2,
    archiveRatePerSec: 0.02,
    ratePerSec: 20,
    startTradeId: 1,
    startAggId: 1,
  });
});
afterAll(() => {
  sim.stop();
  closeReader();
});

test("files a backfill commits beside a live K2 are adopted and served; archive and live ids stored once", async () => {
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
    await waitUntil(
      async () => (await storedLines(k.dataDir, "trades", "BTCUSDT")).rows > 0,
      10_000,
      "live trades in Parquet",
    );

    const lines: string[] = [];
    const code = await runBackfillCli(
      [
        "--symbols",
        "BTCUSDT",
        "--tables",
        "trades",
        "--from",
        "2024-12-31",
        "--to",
        "2025-01-01",
        "--data-dir",
        k.dataDir,
      ],
      { env: { K2_ARCHIVE_URL: sim.archiveUrl }, isTty: false, out: () => {}, error: (l) => lines.push(l) },
    );
    expect(code).toBe(0);

    // K2's API serves the archived hour once it adopted the files (its catalog, not a new scan per query).
    const f: ArchiveFile = { dataset: "trades", period: "daily", symbol: "BTCUSDT", date: "2024-12-31" };
    const archived = await archiveLines(sim.archiveUrl, f);
    const hourEndUs = BigInt(Date.UTC(2024, 11, 31, 1)) * 1000n;
    const wantIds = archived
      .filter((l) => BigInt(l.split(",")[3]!) < hourEndUs)
      .map((l) => Number(l.split(",")[0]));
    const served = async () => {
      const r = await fetch(
        `${k.url}/v1/trades?symbol=BTCUSDT&start=2024-12-31T00:00:00&end=2024-12-31T01:00:00&limit=10000`,
      );
      if (r.status !== 200) return [];
      return ((await r.json()) as { data: { trade_id: number }[] }).data.map((t) => Number(t.trade_id));
    };
    await waitUntil(async () => (await served()).length > 0, 10_000, "the archived hour served by K2", {
      detail: () => k.logs().slice(-2000),
    });
    expect(await served()).toEqual(wantIds);
    expect(k.logs()).toMatch(/"msg":"backfill files adopted"/);

    // Every id once across the archive's two days and what K2 stored live.
    const stored = await storedLines(k.dataDir, "trades", "BTCUSDT");
    expect(stored.rows).toBe(stored.distinct);
    const ids = stored.lines.map((l) => Number(l.split(",")[0]));
    const lastArchived = Number(
      (await archiveLines(sim.archiveUrl, { ...f, date: "2025-01-01" })).at(-1)!.split(",")[0],
    );
    expect(ids.slice(0, lastArchived)).toEqual(Array.from({ length: lastArchived }, (_, i) => i + 1));
    expect(ids.length).toBeGreaterThan(lastArchived); // and the live ones after them
    expect((await k.stop()).code).toBe(0);
  } finally {
    k.cleanup();
    await k.proc.exited;
  }
}, 40_000);
