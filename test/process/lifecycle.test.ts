import { afterEach, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type K2Process, runK2, startK2 } from "../support/k2-process.ts";
import { parsePrometheus, sample, scrapeMetric } from "../support/prometheus.ts";
import { waitUntil } from "../support/wait.ts";

/** Poll a condition that has no event to await; bounded, and the error names what was awaited. */

let k2: K2Process | undefined;
afterEach(() => {
  k2?.cleanup();
  k2 = undefined;
});

describe("K2 process lifecycle", () => {
  test("serves health, metrics and docs, then on SIGTERM drains and exits 0 well inside the grace period", async () => {
    // The period the drain is judged against. A drain that hangs runs into the batcher's idle
    // timeout (grace − 1 s) or the forced exit (grace, code 1): either way over half of it.
    const graceMs = 12_000;
    // The shortest collection period, so the test sees K2's own full collections run.
    k2 = await startK2({ K2_SHUTDOWN_GRACE_MS: String(graceMs), K2_GC_INTERVAL_MS: "1000" });
    expect((await fetch(`${k2.url}/health/live`)).status).toBe(200);
    // Ready once the embedded simulator's streams deliver (a few hundred ms).
    let ready = await fetch(`${k2.url}/health/ready`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await Bun.sleep(50);
      ready = await fetch(`${k2.url}/health/ready`);
    }
    expect(ready.status).toBe(200);
    const p = parsePrometheus(await (await fetch(`${k2.url}/metrics`)).text());
    expect(sample(p, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(sample(p, "process_heap_used_bytes")).toBeGreaterThan(0);
    expect(sample(p, "process_open_fds")).toBeGreaterThan(2);
    expect(sample(p, "process_uptime_seconds")).toBeGreaterThan(0);
    expect(sample(p, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
    const url = k2.url;
    const gcRuns = () => scrapeMetric(url, "k2_gc_full_total");
    await waitUntil(async () => (await gcRuns()) >= 2, 10_000, "two full collections", { everyMs: 200 });
    const after = parsePrometheus(await (await fetch(`${k2.url}/metrics`)).text());
    expect(sample(after, "k2_gc_full_seconds_total")).toBeGreaterThan(0);
    expect(sample(after, "k2_gc_full_max_seconds")).toBeGreaterThan(0);
    expect(sample(after, "k2_memory_rss_after_full_gc_bytes")).toBeGreaterThan(0);
    expect((await fetch(`${k2.url}/docs`)).status).toBe(200);
    const { code, ms } = await k2.stop("SIGTERM");
    expect(code).toBe(0);
    // Prompt: a small share of the grace period rather than a sub-second figure that a loaded
    // machine can miss (a normal drain takes a few hundred ms here).
    expect(ms).toBeLessThan(graceMs / 2);
    // The rest of stdout may still be in the pipe when the exit code is in: wait for the last line.
    const proc = k2;
    await waitUntil(() => proc.logs().includes('"msg":"k2 stopped"'), 5_000, "the last log line");
    const logs = proc.logs();
    expect(logs).toContain(`"grace_ms":${graceMs}`); // the bound above is the one in effect
    expect(logs).toContain('"msg":"pipeline stopped"');
    expect(logs).not.toContain("stopping with rows not yet written"); // drained, not cut short
  }, 45_000); // start (≤ 10 s) + readiness (≤ 5 s) + a drain that hangs (killed after 15 s)

  test("SIGINT also drains and exits 0", async () => {
    k2 = await startK2();
    const { code } = await k2.stop("SIGINT");
    expect(code).toBe(0);
  });

  test("logs the effective config as JSON lines when not on a terminal", async () => {
    k2 = await startK2({ K2_SYMBOLS: "SOLUSDT" });
    const first = JSON.parse(k2.logs().split("\n")[0] ?? "{}") as { config?: Record<string, unknown> };
    expect(first.config?.K2_SYMBOLS).toEqual(["SOLUSDT"]);
    expect(first.config?.K2_PORT).toBe(0);
    await k2.stop();
  });

  test("a bad config value exits 2 with one line naming it", async () => {
    const r = await runK2([], { K2_PORT: "99999" });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      'k2: invalid K2_PORT="99999": expected an integer in 0..65535',
    ]);
  });

  test("a bad flag exits 2", async () => {
    const r = await runK2(["--streams", "depth5"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--streams");
  });

  test("--help exits 0 and lists the keys", async () => {
    const r = await runK2(["--help"], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("K2_BINANCE_WS_URL");
  });

  test("a data dir that cannot be created exits 1 with a clear message", async () => {
    const file = join(tmpdir(), `k2-not-a-dir-${process.pid}`);
    writeFileSync(file, "x");
    try {
      const r = await runK2([], { K2_DATA_DIR: join(file, "sub"), K2_PORT: "0" });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("could not start");
    } finally {
      rmSync(file, { force: true });
    }
  });
});
