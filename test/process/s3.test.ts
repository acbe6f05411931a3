/**
 * The real K2 process with K2_DATA_DIR=s3://… against s3rver and the simulator: every trade in
 * the bucket exactly once, the bucket equal to the local files after SIGTERM, a fresh machine
 * (empty K2_LOCAL_DIR) recovering the data set from the bucket, and a bad URL refused with exit 2.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { type K2Process, runK2, startK2 } from "../support/k2-process.ts";
import { S3rverHarness } from "../support/s3rver.ts";
import { deliverableIds } from "../support/source-harness.ts";
import { storedTradeIds } from "../support/stored.ts";

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

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

type Ready = { status: string; checks: Record<string, { ok: boolean; reason?: string }> };
const ready = async (url: string) => (await (await fetch(`${url}/health/ready`)).json()) as Ready;

/**
 * Run K2 until it has stored `minRows` BTCUSDT trades, optionally take the store away and bring
 * it back meanwhile (`outage`), then SIGTERM it.
 */
async function ingest(env: Record<string, string>, minRows: number, outage?: S3rverHarness): Promise<string> {
  k2 = await startK2(env);
  const url = k2.url;
  await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 8_000, "ready");
  await waitFor(
    async () => {
      const r = (await (await fetch(`${url}/v1/trades?symbol=BTCUSDT&limit=1000`)).json()) as {
        data: unknown[];
      };
      return r.data.length >= minRows;
    },
    8_000,
    `${minRows} BTCUSDT trades`,
  );
  if (outage) {
    await outage.stop();
    await waitFor(
      async () => (await ready(url)).checks.object_store?.ok === false,
      5_000,
      "store reported down",
    );
    expect((await ready(url)).checks.object_store?.reason).toContain("ConnectionRefused");
    await outage.start(); // same port and folder
    await waitFor(async () => (await ready(url)).status === "ready", 10_000, "store reported back");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^k2_s3_upload_failures_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^k2_s3_uploads_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  }
  const { code } = await k2.stop();
  const logs = k2.logs();
  expect(code).toBe(0);
  return logs;
}

describe("K2 process with an S3 data dir", () => {
  test("every trade in the bucket once, through an outage; a fresh machine gets the data set back", async () => {
    s3 = new S3rverHarness("k2-proc");
    await s3.start();
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 200, seed: 7 });
    const local = tempDir("local");
    await ingest(envFor(sim, s3, local), 200, s3);

    // The bucket, read independently, holds exactly the local files' rows: each once, none lost.
    const fromBucket = tempDir("bucket");
    expect(await s3.download("run/", fromBucket)).toBeGreaterThan(0);
    const stored = await storedTradeIds(local);
    const inBucket = await storedTradeIds(fromBucket);
    expect(inBucket).toEqual(stored);
    for (const sym of SYMBOLS) {
      const got = inBucket.get(sym)!;
      expect(got.rows).toBe(got.distinct);
      expect(got.ids).toEqual(deliverableIds(sim, sym, got.ids[0]!, got.ids[got.ids.length - 1]!));
    }

    // A fresh machine: empty local folder, same bucket. It starts from what the bucket holds.
    const fresh = tempDir("fresh");
    const logs = await ingest(envFor(sim, s3, fresh), 1);
    expect(logs).toContain("object store: missing files downloaded");
    const again = await storedTradeIds(fresh);
    for (const sym of SYMBOLS) {
      const before = stored.get(sym)!.ids;
      const now = again.get(sym)!;
      expect(now.rows).toBe(now.distinct);
      const have = new Set(now.ids);
      expect(before.every((id) => have.has(id))).toBe(true);
    }
    const fromBucket2 = tempDir("bucket2");
    await s3.download("run/", fromBucket2);
    expect(await storedTradeIds(fromBucket2)).toEqual(again);
  }, 30_000);

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
