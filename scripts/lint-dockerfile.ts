#!/usr/bin/env bun
/**
 * Lints the Dockerfile: the generic rules of dockerfilelint (npm, pure JavaScript: hadolint has
 * no Debian package and its npm wrappers download a binary from GitHub, which this workplace and
 * a fresh CI machine without it cannot), then what K2's image promises:
 * - every stage FROM oven/bun:<the Bun pinned in package.json>;
 * - production dependencies only, exactly as locked;
 * - runs as a non-root USER; data on VOLUME /data with K2_DATA_DIR=/data; K2_HOST=0.0.0.0;
 * - a HEALTHCHECK on /health/live;
 * - CMD is `bun run start`, the same as the last step of `make start`.
 * Usage: bun run scripts/lint-dockerfile.ts   (exit 1 on any finding)
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run as dockerfilelint } from "dockerfilelint";

const ROOT = resolve(import.meta.dir, "..");
const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const findings: string[] = [];

for (const d of dockerfilelint(ROOT, text)) {
  findings.push(`Dockerfile:${d.line} ${d.title}: ${d.description.replace(/\s+/g, " ")} [${d.rule}]`);
}

// Instructions with continuation lines joined, comments dropped.
const instructions = text
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"))
  .map((l) => {
    const sp = l.search(/\s/);
    return { op: l.slice(0, sp).toUpperCase(), args: l.slice(sp + 1).trim() };
  });
const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);
const lastStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf("FROM"));
const inRuntime = (op: string) => lastStage.filter((i) => i.op === op).map((i) => i.args);

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  packageManager?: string;
  scripts?: Record<string, string>;
};
const bun = /^bun@(.+)$/.exec(pkg.packageManager ?? "")?.[1];

const froms = all("FROM");
if (froms.length < 2) findings.push("Dockerfile: expected a multi-stage build (deps, runtime)");
for (const f of froms) {
  const image = f.split(/\s+/)[0] ?? "";
  if (image.replace(/@sha256:[0-9a-f]{64}$/, "") !== `oven/bun:${bun}`) {
    findings.push(
      `Dockerfile: FROM ${image}: expected oven/bun:${bun} (package.json pins bun ${bun}; bump together)`,
    );
  }
}
if (!all("RUN").some((r) => /bun install\b.*--frozen-lockfile/.test(r) && /--production\b/.test(r))) {
  findings.push("Dockerfile: expected `bun install --frozen-lockfile --production`");
}
const user = inRuntime("USER").at(-1);
if (!user || /^(root|0)(:|$)/.test(user))
  findings.push("Dockerfile: the runtime stage must end as a non-root USER");
if (!inRuntime("VOLUME").some((v) => v.includes("/data"))) findings.push("Dockerfile: expected VOLUME /data");
const env = inRuntime("ENV").join(" ");
for (const kv of ["K2_DATA_DIR=/data", "K2_HOST=0.0.0.0"]) {
  if (!env.split(/\s+/).includes(kv)) findings.push(`Dockerfile: expected ENV ${kv} in the runtime stage`);
}
const health = inRuntime("HEALTHCHECK").at(-1) ?? "";
if (!health.includes("/health/live")) findings.push("Dockerfile: expected a HEALTHCHECK on /health/live");

const cmd = inRuntime("CMD").at(-1);
if (cmd !== '["bun", "run", "start"]')
  findings.push(`Dockerfile: CMD ${cmd}: expected ["bun", "run", "start"]`);
if (!pkg.scripts?.start) findings.push('package.json: no "start" script for the image CMD');
// The last recipe line of `make start` must be the same command.
const make = readFileSync(join(ROOT, "Makefile"), "utf8");
const startRecipe = /^start:.*\n((?:\t.*\n?)+)/m.exec(make)?.[1]?.trimEnd().split("\n").at(-1)?.trim();
if (startRecipe !== '"$(BUN)" run start') {
  findings.push(
    `Makefile: last step of start is ${startRecipe}; the image runs "bun run start": keep them equal`,
  );
}
if (!existsSync(join(ROOT, ".dockerignore"))) findings.push(".dockerignore: missing");

if (findings.length > 0) {
  console.error(findings.join("\n"));
  console.error(`lint-dockerfile: ${findings.length} finding(s)`);
  process.exit(1);
}
console.log(`lint-dockerfile: Dockerfile OK (dockerfilelint + K2 rules, oven/bun:${bun}, CMD bun run start)`);
