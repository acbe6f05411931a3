/**
 * `make bench`: import every native-bench/*.bench.ts, run its suite, print a table with ratios
 * against the baselines measured in the same run, and write the results as JSON to
 * native-bench/results/<timestamp>.json (gitignored). `bun run native-bench/run.ts [filter]`
 * runs only the suites whose file name contains `filter`.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, type BenchSuite, runCase } from "./harness.ts";

const DIR = import.meta.dir;
const filter = process.argv[2] ?? "";
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".bench.ts") && f.includes(filter))
  .sort();

const fmt = (n: number, d = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

interface SuiteReport {
  file: string;
  title: string;
  results: BenchResult[];
  ratios: { subject: string; baseline: string; ratio: number; target?: number; met?: boolean }[];
}

const reports: SuiteReport[] = [];
let missed = 0;
for (const file of files) {
  const mod = (await import(join(DIR, file))) as { suite?: BenchSuite };
  if (!mod.suite) {
    console.error(`${file}: no exported suite, skipped`);
    continue;
  }
  const suite = mod.suite;
  console.log(`\n## ${suite.title} (${file})`);
  console.log(
    `${pad("case", 52)} ${lpad("ns/op", 9)} ${lpad("median", 9)} ${lpad("ops/s", 14)} ${lpad("B/op", 8)} ${lpad("full-round B", 12)}`,
  );
  const results: BenchResult[] = [];
  for (const c of suite.cases) {
    const r = runCase(c, 3);
    results.push(r);
    console.log(
      `${pad(r.name, 52)} ${lpad(fmt(r.ns_per_op), 9)} ${lpad(fmt(r.median_ns_per_op ?? r.ns_per_op), 9)} ${lpad(fmt(r.ops_per_s, 0), 14)} ${lpad(fmt(r.bytes_per_op), 8)} ${lpad(fmt(r.heap_growth_full_round ?? 0, 0), 12)}`,
    );
  }
  const byName = new Map(results.map((r) => [r.name, r]));
  const ratios: SuiteReport["ratios"] = [];
  for (const q of suite.ratios) {
    const s = byName.get(q.subject);
    const b = byName.get(q.baseline);
    if (!s || !b) {
      console.error(`ratio ${q.subject} / ${q.baseline}: unknown case`);
      continue;
    }
    const ratio = b.ns_per_op / s.ns_per_op;
    const met = q.target === undefined ? undefined : ratio >= q.target;
    if (met === false) missed++;
    ratios.push({ subject: q.subject, baseline: q.baseline, ratio, target: q.target, met });
    const t = q.target === undefined ? "" : ` (target ≥ ${q.target}×: ${met ? "met" : "MISSED"})`;
    console.log(`  ${q.subject} is ${fmt(ratio, 2)}× faster than ${q.baseline}${t}`);
  }
  reports.push({ file, title: suite.title, results, ratios });
}

const outDir = join(DIR, "results");
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const path = join(outDir, `${stamp}.json`);
const machine = {
  bun: Bun.version,
  platform: process.platform,
  arch: process.arch,
  cpus: navigator.hardwareConcurrency,
};
await Bun.write(
  path,
  `${JSON.stringify({ at: new Date().toISOString(), machine, suites: reports }, null, 1)}\n`,
);
console.log(`\nresults: ${path}${missed > 0 ? ` (${missed} ratio target(s) missed)` : ""}`);
