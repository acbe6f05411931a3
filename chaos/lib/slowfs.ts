/**
 * Builds slowfs.c (an LD_PRELOAD library that delays writes and syncs under one directory) into a
 * temp dir at run time, and hands out: the env that preloads it into one child process, the
 * switch that changes its delays while that child runs, and the counters it keeps, which are the
 * evidence that the child's calls really went through it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "../../soak/lib/stack.ts";
import { Skip } from "./scenario.ts";

const SOURCE = join(import.meta.dir, "slowfs.c");

export const SLOWFS_OPS = ["write", "pwrite", "writev", "pwritev", "fsync", "fdatasync", "rename"] as const;
export type SlowFsOp = (typeof SLOWFS_OPS)[number];

export interface SlowFsStats {
  pid: number;
  sleptMs: number;
  /** Per call: how many targeted the slowed tree, and how many of those were delayed. */
  calls: Record<SlowFsOp, { seen: number; slowed: number }>;
}

export interface SlowFs {
  /** Env for the one process to slow: LD_PRELOAD plus where its tree, switch and counters are. */
  env(dir: string): Record<string, string>;
  /** Delay per write-family call and per fsync/fdatasync/rename; 0 0 = full speed. */
  set(writeMs: number, syncMs: number): void;
  /** Latest counters the library wrote (at most ~100 ms old), undefined before its first write. */
  stats(): SlowFsStats | undefined;
  /** Remove the .so and its control files (also done at harness cleanup). */
  remove(): Promise<void>;
}

/** Compile the library; Skip when this machine cannot (no C compiler or no libc headers). */
export function buildSlowFs(): SlowFs {
  const dir = mkdtempSync(join(tmpdir(), "k2-slowfs-"));
  const remove = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const so = join(dir, "slowfs.so");
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O2", "-o", so, SOURCE, "-ldl"], { encoding: "utf8" });
  if (r.error || r.status !== 0 || !existsSync(so)) {
    void remove();
    const why = r.error ? `no C compiler: ${r.error.message}` : (r.stderr || "").trim().split("\n")[0];
    throw new Skip(`cannot build the LD_PRELOAD slow-disk library (cc -shared slowfs.c): ${why}`);
  }
  const ctl = join(dir, "ctl");
  const statsPath = join(dir, "stats.json");
  const set = (writeMs: number, syncMs: number) => {
    // Whole-file swap: the library must never read a half-written switch (it would read 0 0).
    writeFileSync(`${ctl}.tmp`, `${Math.round(writeMs)} ${Math.round(syncMs)}\n`);
    renameSync(`${ctl}.tmp`, ctl);
  };
  set(0, 0);
  return {
    env: (tree) => ({ LD_PRELOAD: so, SLOWFS_DIR: tree, SLOWFS_CTL: ctl, SLOWFS_STATS: statsPath }),
    set,
    stats() {
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(readFileSync(statsPath, "utf8")) as Record<string, unknown>;
      } catch {
        return undefined;
      }
      const calls = {} as SlowFsStats["calls"];
      for (const op of SLOWFS_OPS) {
        const [seen = 0, slowed = 0] = (raw[op] as number[] | undefined) ?? [];
        calls[op] = { seen, slowed };
      }
      return { pid: Number(raw.pid), sleptMs: Number(raw.slept_ms), calls };
    },
    remove,
  };
}
