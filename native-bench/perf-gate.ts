/**
 * `make perf-gate`: fail on a performance regression, measured as ratios so a noisy machine does
 * not fail it at random.
 * 1. native-bench suites (run.ts, one process per suite, best of two runs): each subject/baseline
 *    ratio measured in one run.
 * 2. HTTP (api-throughput.ts, best round of two per target): autocannon against a K2 that ingests from the
 *    embedded simulator, on the newest-first /v1/trades?limit=100&order=desc page and on
 *    /health/live, each divided by the req/s of a plain Bun.serve answering the very bytes and
 *    headers of that page, measured in the same run; the CPU of each server is printed beside.
 * 3. End to end: a bare client's CPU per frame over K2's CPU per stored row, one simulator (e2eRatios).
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

/**
 * End to end (native-bench/e2e-throughput.ts), trade stream, 10 symbols, the bare client and K2
 * on the same paced max-rate simulator process. Gated: the bare client's CPU time per frame over
 * K2's CPU time per stored row — on this shared 2-core machine the rows/s ratio swung 0.20–0.80
 * between four runs of one build (both processes starved alike), the CPU ratio 0.19–0.32. The
 * rows/s ratio (the issue's target) is printed. Best of two runs; any lost or duplicated row fails.
 */
async function e2eRatios(): Promise<Ratios> {
  let best = 0;
  for (let run = 0; run < 2; run++) {
    const child = Bun.spawn(
      [
        process.execPath,
        "run",
        join(DIR, "e2e-throughput.ts"),
        "--phases",
        "bare,k2",
        "--seconds",
        String(Math.max(8, seconds)),
        "--json",
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const out = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error("native-bench/e2e-throughput.ts failed");
    const r = JSON.parse(out.trim().split("\n").pop()!) as {
      ratio_k2_to_bare: number;
      cpu_ratio_k2_to_bare: number;
      k2: { tables: Record<string, { lost: number; dup: number; unexpected: number }> };
    };
    for (const [t, c] of Object.entries(r.k2.tables))
      if (c.lost + c.dup + c.unexpected > 0)
        throw new Error(`e2e: ${t} lost ${c.lost}, duplicated ${c.dup}, unexpected ${c.unexpected}`);
    console.log(
      `\ne2e (trade, 10 symbols): K2 rows/s / bare frames/s ${r.ratio_k2_to_bare}; CPU per message, bare / K2 ${r.cpu_ratio_k2_to_bare}`,
    );
    best = Math.max(best, r.cpu_ratio_k2_to_bare);
  }
  return { [E2E_RATIO]: best };
}
const E2E_RATIO = "e2e: bare client CPU per frame / K2 CPU per row visible in Parquet (trade, 10 symbols)";

const now = {
  ...(await benchRatios()),
  ...(await apiRatios({ seconds, rounds: 2 })),
  ...(await e2eRatios()),
};
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
