/**
 * Disk full, for real: K2's data dir is an 8 MiB tmpfs (needs root; otherwise SKIP). A ballast file
 * fills it while K2 ingests. K2 must not crash, must say 503 while full, retry its writes, and once
 * the ballast is gone be ready again with every trade stored once.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup, waitUntil } from "../soak/lib/stack.ts";
import { type Checker, type Scenario, Skip, snap, watchReady, withStack } from "./lib/scenario.ts";

export const scenario: Scenario = {
  name: "disk-full",
  summary: "8 MiB tmpfs data dir filled by a ballast: no crash, 503 while full, 200 and complete after",
  smoke: false,
  async run(o, chk: Checker) {
    const mount = join(tmpdir(), `k2-chaos-disk-${process.pid}`);
    mkdirSync(mount, { recursive: true });
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount], { encoding: "utf8" });
    if (r.status !== 0) {
      rmSync(mount, { recursive: true, force: true });
      throw new Skip(`cannot mount a tmpfs here (needs root): ${(r.stderr || "").trim()}`);
    }
    const unmount = onCleanup(() => {
      spawnSync("umount", ["-l", mount]);
      rmSync(mount, { recursive: true, force: true });
    });
    try {
      const spec = {
        dataDir: join(mount, "data"),
        sim: { ratePerSec: 100 },
        env: { K2_FLUSH_INTERVAL_MS: "200" },
      };
      await withStack(chk, spec, async (stack) => {
        const before = await snap(stack);
        const ballast = join(mount, "ballast");
        const st = statfsSync(mount);
        try {
          writeFileSync(ballast, Buffer.alloc(st.bavail * st.bsize));
        } catch {
          // ENOSPC while writing the ballast is the point: the disk is now full.
        }
        const t0 = performance.now();
        const notReadyMs = await waitUntil(async () => (await stack.ready()) === 503, 10_000, 100);
        const full = await watchReady(stack, o.short ? 3000 : 10_000, 250);
        chk.check(stack.k2.proc.exitCode === null, "K2 exited while the disk was full");
        rmSync(ballast, { force: true });
        const backMs = await waitUntil(async () => (await stack.ready()) === 200, 20_000, 100);
        const after = await snap(stack);
        chk.set("not_ready_after_ms", notReadyMs === null ? null : Math.round(notReadyMs));
        chk.set("ready_while_full", full.counts);
        chk.set("ready_again_after_free_ms", backMs === null ? null : Math.round(backMs));
        chk.set("write_failures", (after?.writeFailures ?? 0) - (before?.writeFailures ?? 0));
        chk.check(notReadyMs !== null, "readiness never said 503 with the disk full");
        chk.check((full.counts[200] ?? 0) === 0, "readiness said 200 while the disk was full");
        chk.check(backMs !== null, "not ready within 20 s after space was freed");
        void t0;
      });
    } finally {
      await unmount();
    }
  },
};
