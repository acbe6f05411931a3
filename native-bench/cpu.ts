/** CPU time of a child process, read from /proc, for benches that report CPU next to req/s. */
import { readFileSync } from "node:fs";

const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** utime + stime of `pid` in seconds (fields 14 and 15 of /proc/<pid>/stat, after the comm field). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Runs `run` and returns its result with `pid`'s CPU over that time, in % of one core. */
export async function cpuPercentOver<T>(
  pid: number,
  run: () => Promise<T>,
): Promise<{ result: T; pct: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  const result = await run();
  const pct = ((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
  return { result, pct };
}
