/**
 * The real K2 process with K2_DATA_DIR=s3://… against s3rver and the simulator: every trade and
 * aggTrade of the run in the bucket exactly once (the simulator's whole ground truth, the run
 * bounded on its clock: test/support/bounded-run.ts), the bucket equal to the local files after
 * SIGTERM, a fresh machine (empty K2_LOCAL_DIR) recovering the data set from the bucket and going
 * on from it, and a bad URL refused with exit 2.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import {
  expectStored,
  newestId,
  pauseAndCatchUp,
  resumeWhenConnected,
  truthOf,
  waitUntil,
} from "../support/bounded-run.ts";
import { type K2Process, runK2, startK2 } from "../support/k2-process.ts";
import { S3rverHarness } from "../support/s3rver.ts";
import { type StoredIds, storedTradeIds } from "../support/stored.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
let sim: Simulator | undefined;
let k2: K2Process | undefined;
let s3: S3rverHarness | undefined;
const dirs: string[] = [];

afterEach(async () => {
  k2?.cleanup();
  k2 = undefined;
  await sim?.stop();
  sim = undefined;
  await s3?.dispose();
  s3 = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `k2-s3-${name}-`));
  dirs.push(d);
  return d;
};

function envFor(s: Simulator, store: S3rverHarness, localDir: string): Record<string, string> {
  return {
    ...store.env("run"),
    K2_LOCAL_DIR: localDir,
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: s.wsUrl,
    K2_BINANCE_REST_URL: s.restUrl,
    K2_SYMBOLS: SYMBOLS.join(","),
    K2_FLUSH_INTERVAL_MS: "300",
    K2_CONNECT_MIN_INTERVAL_MS: "0",
    K2_WAL_FSYNC_MS: "20",
    K2_QUERY_MEMORY_MB: "128",
  };
}

type Ready = { status: string; checks: Record<string, { ok: boolean; reason?: string }> };
const ready = async (url: string) => (await (await fetch(`${url}/health/ready`)).json()) as Ready;

const TABLES = ["trades", "agg_trades", "quotes"] as const;

/** Ids per "table:SYMBOL" in a data dir (quotes too), read by DuckDB: two dirs compared whole. */
async function allIds(dataDir: string) {
  const out = new Map<string, StoredIds>();
  for (const t of TABLES) for (const [sym, v] of await storedTradeIds(dataDir, t)) out.set(`${t}:${sym}`, v);
  return out;
}

/**
 * With the market paused: start K2, resume the market once it is connected, run until it serves
 * BTCUSDT trade `untilId`, optionally take the store away and bring it back meanwhile (`outage`),
 * then pause the market, let K2 catch up with the last trade and aggTrade, and SIGTERM it.
 */
async function ingest(
  s: Simulator,
  env: Record<string, string>,
  untilId: number,
  outage?: S3rverHarness,
): Promise<string> {
  // The previous K2's session must be gone, or "connected" below would count it.
  await waitUntil(() => s.stats().connections === 0, 5_000, "no WebSocket session open");
  k2 = await startK2(env);
  const url = k2.url;
  await resumeWhenConnected(s);
  await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 8_000, "ready");
  await waitUntil(
    async () => (await newestId(url, "trades", "BTCUSDT")) >= untilId,
    10_000,
    `BTCUSDT trade #${untilId}`,
  );
  if (outage) {
    await outage.stop();
    await waitUntil(
      async () => (await ready(url)).checks.object_store?.ok === false,
      5_000,
      "store reported down",
    );
    expect((await ready(url)).checks.object_store?.reason).toContain("ConnectionRefused");
    await outage.start(); // same port and folder
    await waitUntil(async () => (await ready(url)).status === "ready", 10_000, "store reported back");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^k2_s3_upload_failures_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^k2_s3_uploads_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  }
  await pauseAndCatchUp(s, url, SYMBOLS);
  const { code } = await k2.stop();
  const logs = k2.logs();
  expect(code).toBe(0);
  return logs;
}

describe("K2 process with an S3 data dir", () => {
  test("every trade and aggTrade of the run in the bucket once, through an outage; a fresh machine goes on from it", async () => {
    s3 = new S3rverHarness("k2-proc");
    await s3.start();
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 200, seed: 7, faults: { paused: true } });
    const s = sim;
    const local = tempDir("local");
    await ingest(s, envFor(s, s3, local), s.options.startTradeId + 200, s3);

    // The bucket, read independently, holds every trade and aggTrade of the run, each once, and
    // exactly the local files' rows.
    const fromBucket = tempDir("bucket");
    expect(await s3.download("run/", fromBucket)).toBeGreaterThan(0);
    const truth = truthOf(s, SYMBOLS);
    await expectStored(local, truth);
    await expectStored(fromBucket, truth);
    const stored = await allIds(local);
    expect(await allIds(fromBucket)).toEqual(stored);

    // A fresh machine: empty local folder, same bucket. It starts from what the bucket holds and
    // goes on: the market stood still in between, so its data set is again the whole ground truth.
    const fresh = tempDir("fresh");
    const lastOfFirstRun = truth.get("trades:BTCUSDT")!.at(-1)!;
    const logs = await ingest(s, envFor(s, s3, fresh), lastOfFirstRun + 100);
    expect(logs).toContain("object store: missing files downloaded");
    const whole = truthOf(s, SYMBOLS);
    expect(whole.get("trades:BTCUSDT")!.length).toBeGreaterThan(truth.get("trades:BTCUSDT")!.length);
    await expectStored(fresh, whole);
    const fromBucket2 = tempDir("bucket2");
    await s3.download("run/", fromBucket2);
    await expectStored(fromBucket2, whole);
    expect(await allIds(fromBucket2)).toEqual(await allIds(fresh));
  }, 60_000);

  test("a bad s3 URL or missing credentials exit 2 with one line", async () => {
    const bad = await runK2([], {
      K2_DATA_DIR: "s3://Bad_Bucket/x",
      S3_ACCESS_KEY_ID: "a",
      S3_SECRET_ACCESS_KEY: "b",
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("K2_DATA_DIR");
    expect(bad.stderr).toContain("s3://bucket/prefix");
    const noKeys = await runK2([], {
      K2_DATA_DIR: "s3://good-bucket/x",
      S3_ACCESS_KEY_ID: "",
      S3_SECRET_ACCESS_KEY: "",
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
    });
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain("AWS_ACCESS_KEY_ID");
  });
});
