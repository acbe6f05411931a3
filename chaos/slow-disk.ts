/**
 * Slow disk, injected at the libc boundary: K2 (and only K2) runs with chaos/lib/slowfs.so
 * preloaded, which sleeps SYNC_DELAY_MS before every fsync, fdatasync and rename on a file or
 * folder under K2's data dir, from any thread (event loop, thread pool, the Parquet Worker). After
 * a normal warm-up the delay is switched on for a while, then off. K2 must not crash, its sink
 * write lag must show the slowness, /health/ready must keep answering and say 200 only while K2
 * still ingests, lag must come back to normal after, and every trade must be stored once.
 *
 * What this is not: reads are never slowed, and neither are Bun's write/pwrite/writev, which on
 * Linux are raw syscalls that no preload can see (measured with Bun 1.4.5: 0 of them reached the
 * library while strace showed them; the counters are reported as intercepted_writes). So this is
 * a disk slow to make data durable, the case where a real disk hurts (writes land in the page
 * cache; fsync waits for the device), not a full dm-delay device. O_DIRECT, io_uring or mmap'd
 * writes would bypass it too. If K2's fsyncs stop reaching the library the scenario says SKIP.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Metrics, snapshot } from "../soak/lib/metrics.ts";
import { onCleanup, type Stack, waitUntil } from "../soak/lib/stack.ts";
import { DEFAULT_COOLDOWN_MS } from "../src/resilience/degradation.ts";
import { type Checker, type Scenario, Skip, withStack } from "./lib/scenario.ts";
import { buildSlowFs, type SlowFsStats } from "./lib/slowfs.ts";

/** Per fsync/fdatasync/rename: a Parquet commit (fsync, rename, folder fsync) then takes ≥ 0.45 s. */
const SYNC_DELAY_MS = 150;
const WARMUP_MS = 3000;
const POLL_MS = 250;
/** Ready but no new trade accepted for this long is a readiness lie (the data timeout is 2 s). */
const STALL_LIE_MS = 5000;
const RECOVERY_TIMEOUT_MS = 30_000;

interface Sample {
  ready: number;
  /** Failing readiness checks named in a 503 body (empty for a 503 without a reason). */
  reasons: string[];
  lagS: number;
  level: number;
  accepted: number;
  pendingRows: number;
}

async function sample(stack: Stack): Promise<Sample | undefined> {
  const r = await stack.get("/health/ready");
  const m: Metrics | undefined = await stack.metrics().catch(() => undefined);
  if (!m) return undefined;
  let reasons: string[] = [];
  if (r.status === 503) {
    try {
      const body = JSON.parse(r.body) as { checks?: Record<string, { ok: boolean; reason?: string }> };
      reasons = Object.entries(body.checks ?? {})
        .filter(([, c]) => !c.ok)
        .map(([name, c]) => `${name}: ${c.reason ?? "?"}`);
    } catch {
      // A 503 body that is not the readiness report: no reason given, counted below.
    }
  }
  const s = snapshot(m);
  return {
    ready: r.status,
    reasons,
    lagS: m.get("k2_sink_write_lag_seconds"),
    level: s.degradation,
    accepted: s.tradesAccepted,
    pendingRows: m.get("k2_rows_pending_write"),
  };
}

/** Poll for `ms`: lag and level peaks, readiness answers, and readiness claims that were false. */
async function observe(stack: Stack, ms: number) {
  const t0 = performance.now();
  const ready: Record<number, number> = {};
  const notReadyReasons = new Set<string>();
  let maxLagS = 0;
  let maxLevel = 0;
  let maxPending = 0;
  let unanswered = 0;
  let reasonless503 = 0;
  let readyWhileStalled = 0;
  let lastAccepted = -1;
  let lastGrowthAt = t0;
  while (performance.now() - t0 < ms) {
    const s = await sample(stack);
    const now = performance.now();
    if (!s) unanswered++;
    else {
      ready[s.ready] = (ready[s.ready] ?? 0) + 1;
      if (s.ready !== 200 && s.ready !== 503) unanswered++;
      if (s.ready === 503 && s.reasons.length === 0) reasonless503++;
      for (const r of s.reasons) notReadyReasons.add(r.replace(/\d+/g, "N"));
      if (s.accepted > lastAccepted) {
        lastAccepted = s.accepted;
        lastGrowthAt = now;
      } else if (s.ready === 200 && now - lastGrowthAt > STALL_LIE_MS) readyWhileStalled++;
      maxLagS = Math.max(maxLagS, s.lagS);
      maxLevel = Math.max(maxLevel, s.level);
      maxPending = Math.max(maxPending, s.pendingRows);
    }
    await Bun.sleep(POLL_MS);
  }
  return {
    ready,
    notReadyReasons: [...notReadyReasons],
    maxLagS,
    maxLevel,
    maxPending,
    unanswered,
    reasonless503,
    readyWhileStalled,
  };
}

function syncCalls(s: SlowFsStats | undefined) {
  const c = s?.calls;
  if (!c) return { seen: 0, slowed: 0 };
  return {
    seen: c.fsync.seen + c.fdatasync.seen + c.rename.seen,
    slowed: c.fsync.slowed + c.fdatasync.slowed + c.rename.slowed,
  };
}

export const scenario: Scenario = {
  name: "slow-disk",
  summary: `fsync/fdatasync/rename under the data dir +${SYNC_DELAY_MS} ms (LD_PRELOAD): no loss, write lag visible, recovers`,
  smoke: false,
  async run(o, chk: Checker) {
    const slowfs = buildSlowFs();
    const dataDir = mkdtempSync(join(tmpdir(), "k2-chaos-slow-"));
    const removeDir = onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
    const slowMs = o.short ? 10_000 : 60_000;
    try {
      await withStack(chk, { dataDir, env: slowfs.env(dataDir) }, async (stack) => {
        const base = await observe(stack, WARMUP_MS);
        const warm = slowfs.stats();
        const warmSync = syncCalls(warm);
        if (warmSync.seen === 0)
          throw new Skip(
            warm
              ? "K2's fsync/fdatasync/rename never reached the preloaded library (raw syscalls?): cannot slow them"
              : "the LD_PRELOAD library never reported from K2 (preload refused or not loaded)",
          );

        chk.set("preload_in_k2_pid", warm?.pid === stack.k2.proc.pid);

        // Both delays on: write-family calls too, should a future Bun send them through libc.
        slowfs.set(SYNC_DELAY_MS, SYNC_DELAY_MS);
        const slow = await observe(stack, slowMs);
        slowfs.set(0, 0);
        const tOff = performance.now();
        const during = slowfs.stats();
        chk.check(stack.k2.proc.exitCode === null, "K2 exited while the disk was slow");

        // Recovered: write lag back under the larger of 1.5 s and 1.5× the warm-up peak, and ready.
        const normalLagS = Math.max(1.5, 1.5 * base.maxLagS);
        let lastLagS = Number.NaN;
        const recovered = await waitUntil(
          async () => {
            const s = await sample(stack);
            if (s) lastLagS = s.lagS;
            return s !== undefined && s.ready === 200 && s.lagS <= normalLagS;
          },
          RECOVERY_TIMEOUT_MS,
          POLL_MS,
        );
        // Degradation steps down one level per DEFAULT_COOLDOWN_MS of calm: wait that long, no more.
        const levelBudgetMs = Math.min(
          slow.maxLevel * DEFAULT_COOLDOWN_MS + 10_000,
          o.short ? 45_000 : 100_000,
        );
        const levelNormal = await waitUntil(
          async () => (await sample(stack))?.level === 0,
          Math.max(0, levelBudgetMs - (performance.now() - tOff)),
          500,
        );
        const after = await observe(stack, 2000);

        const slowed = syncCalls(during).slowed - warmSync.slowed;
        const c = during?.calls;
        chk.set("sync_delay_ms", SYNC_DELAY_MS);
        chk.set("slow_phase_ms", slowMs);
        chk.set("sync_calls_slowed", slowed);
        chk.set("sync_calls_slowed_by_op", {
          fsync: c?.fsync.slowed,
          fdatasync: c?.fdatasync.slowed,
          rename: c?.rename.slowed,
        });
        chk.set("injected_sleep_s", (during?.sleptMs ?? 0) / 1000);
        chk.set(
          "intercepted_writes",
          (c?.write.seen ?? 0) + (c?.pwrite.seen ?? 0) + (c?.writev.seen ?? 0) + (c?.pwritev.seen ?? 0),
        );
        chk.set("write_lag_max_s_warmup", base.maxLagS);
        chk.set("write_lag_max_s_slow", slow.maxLagS);
        chk.set("pending_rows_max_slow", slow.maxPending);
        chk.set("degradation_max_slow", slow.maxLevel);
        chk.set("ready_during_slow", slow.ready);
        chk.set("not_ready_reasons", slow.notReadyReasons);
        chk.set("recovery_ms", recovered === null ? null : Math.round(recovered));
        chk.set(
          "degradation_normal_after_ms",
          levelNormal === null ? null : Math.round(performance.now() - tOff),
        );
        chk.set("degradation_after", after.maxLevel);
        chk.set("ready_after", after.ready);

        chk.check(slowed > 0, "no fsync/fdatasync/rename was slowed: the fault never reached K2");
        chk.check(
          slow.maxLagS >= Math.max(2 * base.maxLagS, base.maxLagS + 1),
          `write lag did not show the slow disk: peak ${slow.maxLagS} s vs ${base.maxLagS} s warm-up`,
        );
        chk.check(
          slow.unanswered === 0,
          `/health/ready or /metrics did not answer ${slow.unanswered}x while slow`,
        );
        chk.check(slow.reasonless503 === 0, `${slow.reasonless503} not-ready answers gave no failing check`);
        chk.check(
          slow.readyWhileStalled === 0 && after.readyWhileStalled === 0,
          `ready said 200 with no trade accepted for > ${STALL_LIE_MS} ms (${slow.readyWhileStalled}x slow, ${after.readyWhileStalled}x after)`,
        );
        chk.check(
          recovered !== null,
          `write lag not back under ${normalLagS} s and ready within ${RECOVERY_TIMEOUT_MS / 1000} s (last ${lastLagS} s)`,
        );
        chk.check(
          after.unanswered === 0 && (after.ready[200] ?? 0) > 0 && Object.keys(after.ready).length === 1,
          `readiness after recovery was not steadily 200: ${JSON.stringify(after.ready)}`,
        );
      });
    } finally {
      await slowfs.remove();
      await removeDir();
    }
  },
};
