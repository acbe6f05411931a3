/**
 * `make perf-gate`: fail on a performance regression, measured as ratios so a noisy machine does
 * not fail it at random.
 * 1. native-bench suites (run.ts, one process per suite, best of two runs): each subject/baseline
 *    ratio measured in one run.
 * 2. HTTP (api-throughput.ts, best round of two per target): autocannon against a K2 that ingests from the
 *    embedded simulator, on the newest-first /v1/trades?limit=100&order=desc page and on
 *    /health/live, each divided by the req/s of a plain Bun.serve answering the very bytes and
 *    headers of that page, measured in the same run; the CPU of each server is printed beside.
 * Every ratio must stay within `tolerance` of native-bench/baseline.json (committed).
 *   bun run native-bench/perf-gate.ts [--update] [--tolerance 0.35] [--seconds 3]
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiRatios } from "./api-throughput.ts";
import { numberFlag } from "./args.ts";

const DIR = import.meta.dir;
const BASELINE = join(DIR, "baseline.json");
const argv = Bun.argv.slice(2);
if (argv.includes("--help")) {
  console.log("bun run native-bench/perf-gate.ts [--update] [--tolerance 0.35] [--seconds 3]");
  process.exit(0);
}
const tolerance = numberFlag(argv, "--tolerance", 0.35);
const seconds = numberFlag(argv, "--seconds", 3);

type Ratios = Record<string, number>;

/**
 * Each suite runs in its own process (no JIT or heap state carried from one suite to the next),
 * twice; a ratio keeps its better run, so one disturbed round on a shared machine does not fail
 * the gate while a real slowdown (both runs slow) still does.
 */
async function benchRatios(): Promise<Ratios> {
  const out: Ratios = {};
  const suites = readdirSync(DIR).filter((f) => f.endsWith(".bench.ts"));
  for (const file of suites) {
    for (let run = 0; run < 2; run++) {
      const child = Bun.spawn([process.execPath, "run", join(DIR, "run.ts"), file], {
        stdout: "inherit",
        stderr: "inherit",
      });
      if ((await child.exited) !== 0) throw new Error(`native-bench/run.ts ${file} failed`);
      const newest = readdirSync(join(DIR, "results")).sort().at(-1)!;
      const report = JSON.parse(readFileSync(join(DIR, "results", newest), "utf8")) as {
        suites: { file: string; ratios: { subject: string; baseline: string; ratio: number }[] }[];
      };
      for (const s of report.suites) {
        for (const r of s.ratios) {
          const key = `${s.file}: ${r.subject} / ${r.baseline}`;
          out[key] = Math.max(out[key] ?? 0, r.ratio);
        }
      }
    }
  }
  return out;
}

const now = { ...(await benchRatios()), ...(await apiRatios({ seconds, rounds: 2 })) };
if (argv.includes("--update")) {
  writeFileSync(BASELINE, `${JSON.stringify({ tolerance, ratios: now }, null, 1)}\n`);
  console.log(`\nbaseline written: ${BASELINE}`);
  process.exit(0);
}
const baseline = JSON.parse(readFileSync(BASELINE, "utf8")) as { ratios: Ratios };
let failed = 0;
console.log(`\nperf gate (a ratio may fall at most ${(tolerance * 100).toFixed(0)} % below its baseline):`);
for (const [name, base] of Object.entries(baseline.ratios)) {
  const got = now[name];
  const ok = got !== undefined && got >= base * (1 - tolerance);
  if (!ok) failed++;
  console.log(
    `  ${ok ? "ok  " : "FAIL"} ${name}: ${got?.toFixed(2) ?? "missing"} (baseline ${base.toFixed(2)})`,
  );
}
console.log(failed === 0 ? "perf gate: PASS" : `perf gate: FAIL (${failed} regression(s))`);
process.exit(failed === 0 ? 0 : 1);
