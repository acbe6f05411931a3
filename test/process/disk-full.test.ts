/**
 * Disk full, for real: K2's data dir is a small tmpfs (this needs root, as CI and the dev
 * machines here run). A ballast file fills it while K2 ingests; K2 must not crash, must report
 * not-ready, must ledger what it could not keep, and once space is freed must store everything:
 * the stored ids equal the simulator's whole ground truth for the run, each once (the run is
 * bounded on the simulator's clock, test/support/bounded-run.ts, so the first and last rows count).
 * Not root: skipped, and said so on stderr (bun's own "(skip)" line is easy to miss in a long run;
 * .ci/run counts skips in its summary). Root that cannot mount fails: that is a broken runner.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { expectStored, pauseAndCatchUp, resumeWhenConnected, truthOf } from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";
import { storedTradeIds } from "../support/stored.ts";

const MOUNT = join(tmpdir(), `k2-diskfull-${process.pid}`);
const ROOT = process.getuid?.() === 0;
const SYMBOLS = ["BTCUSDT"];
let sim: Simulator | undefined;
let k2: K2Process | undefined;
let mounted = false;

if (!ROOT)
  console.error(
    `SKIP test/process/disk-full.test.ts > disk full (1 test): mounting its tmpfs needs root (uid ${process.getuid?.()})`,
  );

beforeAll(() => {
  if (!ROOT) return;
  mkdirSync(MOUNT, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", MOUNT]);
  if (r.status !== 0)
    throw new Error(`running as root, yet mounting a tmpfs on ${MOUNT} failed: ${r.stderr}`);
  mounted = true;
});

afterEach(async () => {
  // A K2 still running keeps files open on the tmpfs, and umount would then fail (EBUSY): wait.
  k2?.cleanup();
  await k2?.proc.exited;
  k2 = undefined;
  await sim?.stop();
  sim = undefined;
});

afterAll(() => {
  if (mounted) spawnSync("umount", [MOUNT]);
  rmSync(MOUNT, { recursive: true, force: true });
});

async function poll<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe.skipIf(!ROOT)("disk full", () => {
  test("K2 survives a full disk, says so, and stores everything once space returns", async () => {
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 300, seed: 9, faults: { paused: true } });
    const s = sim;
    const dataDir = join(MOUNT, "data");
    k2 = await startK2({
      K2_SOURCE: "binance",
      K2_BINANCE_WS_URL: s.wsUrl,
      K2_BINANCE_REST_URL: s.restUrl,
      K2_SYMBOLS: SYMBOLS.join(","),
      K2_STREAMS: "trade",
      K2_DATA_DIR: dataDir,
      K2_FLUSH_INTERVAL_MS: "200",
      K2_CONNECT_MIN_INTERVAL_MS: "0",
      K2_QUERY_MEMORY_MB: "64",
    });
    const url = k2.url;
    await resumeWhenConnected(s);
    await poll(
      () => fetch(`${url}/health/ready`).then((r) => r.status),
      (st) => st === 200,
      8000,
      "ready",
    );
    // The run's first trades are in a file before the disk fills (as before ingest.test.ts's first
    // SIGKILL): the fault then hits a recorder that has made rows durable, not one still starting.
    const firstFile = await poll(
      () => storedTradeIds(dataDir).then((m) => m.get("BTCUSDT")?.ids ?? []),
      (ids) => ids.length > 0,
      10_000,
      "the first trades in Parquet",
    );
    expect({ firstStoredId: firstFile[0] }).toEqual({ firstStoredId: s.options.startTradeId });

    // Fill the disk, leaving no room for a WAL flush or a Parquet file.
    const ballast = join(MOUNT, "ballast");
    const free = statfsSync(MOUNT).bavail * statfsSync(MOUNT).bsize;
    try {
      writeFileSync(ballast, Buffer.alloc(free));
    } catch {
      // ENOSPC while writing the ballast is the point: the disk is now full.
    }
    const notReady = await poll(
      () =>
        fetch(`${url}/health/ready`).then(
          (r) => r.json() as Promise<{ status: string; checks: { sink?: { reason?: string } } }>,
        ),
      (b) => b.status === "not_ready",
      8000,
      "readiness to report the full disk",
    );
    expect(notReady.checks.sink?.reason ?? "").toMatch(/WAL|Parquet/);
    await Bun.sleep(1500); // keep ingesting into a full disk for a while
    expect(k2.proc.exitCode).toBeNull(); // still running

    rmSync(ballast);
    await poll(
      () => fetch(`${url}/health/ready`).then((r) => r.status),
      (st) => st === 200,
      10_000,
      "recovery",
    );
    await poll(
      () =>
        fetch(`${url}/v1/gaps?symbol=BTCUSDT`).then(
          (r) => r.json() as Promise<{ data: { state: string }[] }>,
        ),
      (g) => g.data.every((e) => e.state !== "pending" && e.state !== "repairing"),
      15_000,
      "repairs to finish",
    );
    await pauseAndCatchUp(s, url, SYMBOLS, 15_000, ["trades"]);
    // The fault really hit the sink: Parquet writes failed and were retried.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const failures = Number(/^k2_write_failures_total (\d+)/m.exec(metrics)?.[1] ?? "0");
    expect(failures).toBeGreaterThan(0);
    expect((await k2.stop()).code).toBe(0);

    // Every trade of the run, the first and the last included, once (K2_STREAMS=trade: no aggTrades).
    const stored = await expectStored(dataDir, truthOf(s, SYMBOLS, ["trades"]));
    expect(stored.get("trades:BTCUSDT")!.length).toBe(s.groundTruth().symbols.BTCUSDT!.tradeCount);
  }, 60_000);
});
