#!/usr/bin/env bun
/**
 * Chaos runner: each scenario starts its own simulator + K2, applies one fault, checks invariants
 * and prints PASS / FAIL / SKIP with its numbers. Writes a JSON summary to chaos/reports/.
 * Exit 0 only when every requested scenario passed: a SKIP checked nothing, so it fails the run
 * unless the caller says skips are expected there (--allow-skip).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { installSignalHandlers, runCleanups } from "../soak/lib/stack.ts";
import { scenario as diskFull } from "./disk-full.ts";
import { scenario as gapMissing } from "./gap-missing-at-source.ts";
import { scenario as gapRepair } from "./gap-rest-repair.ts";
import { scenario as garbage } from "./garbage-frames.ts";
import { Checker, type Scenario, type ScenarioResult, Skip } from "./lib/scenario.ts";
import { scenario as lifetimeCut } from "./lifetime-cut.ts";
import { scenario as pingsStop } from "./pings-stop.ts";
import { scenario as queryFlood } from "./query-flood.ts";
import { scenario as refused } from "./refused.ts";
import { scenario as rest429 } from "./rest-429-418.ts";
import { scenario as serverShutdown } from "./server-shutdown.ts";
import { scenario as sigkill } from "./sigkill-wal.ts";
import { scenario as silentStall } from "./silent-stall.ts";
import { scenario as slowDisk } from "./slow-disk.ts";
import { scenario as tcpReset } from "./tcp-reset.ts";

export const SCENARIOS: readonly Scenario[] = [
  tcpReset,
  silentStall,
  pingsStop,
  refused,
  lifetimeCut,
  serverShutdown,
  garbage,
  gapRepair,
  gapMissing,
  rest429,
  sigkill,
  diskFull,
  slowDisk,
  queryFlood,
];

/** What --scenario accepts besides one or more scenario names. */
export const SCENARIO_GROUPS = ["all", "smoke"] as const;

/** A scenario that runs longer than this is failed and its processes killed. */
const SCENARIO_TIMEOUT_MS = 8 * 60_000;

const HELP = `Usage: bun run chaos/run.ts [--scenario NAME|all|smoke] [--short] [--allow-skip] [--list] [--out FILE]
Runs chaos scenarios against a real K2 process and the Binance simulator (loopback only).

  --scenario S   a scenario name (see --list), "all", or "smoke" (the chaos-smoke subset, implies --short)
                 several: --scenario tcp-reset,silent-stall
  --short        shorter holds (e.g. refused: 20 s with a 4 s backoff cap instead of 2 min / 128 s)
  --allow-skip   a SKIP (a scenario that cannot run here, e.g. disk-full without root) does not
                 fail the run; without it a SKIP exits 1 like a FAIL
  --list         list the scenarios and exit
  --out FILE     JSON summary path (default chaos/reports/<timestamp>.json)
  -h, --help     this text
Exit code: 0 when every requested scenario passed (with --allow-skip: none failed), 1 otherwise,
2 on bad arguments.
`;

async function runOne(s: Scenario, short: boolean): Promise<ScenarioResult> {
  const chk = new Checker();
  const t0 = performance.now();
  let status: ScenarioResult["status"] = "PASS";
  let note: string | undefined;
  let timer: Timer | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${SCENARIO_TIMEOUT_MS / 1000} s`)),
        SCENARIO_TIMEOUT_MS,
      );
    });
    await Promise.race([s.run({ short }, chk), timeout]);
    if (chk.failures.length > 0) status = "FAIL";
  } catch (e) {
    if (e instanceof Skip) {
      status = "SKIP";
      note = e.message;
    } else {
      status = "FAIL";
      chk.failures.push(`error: ${(e as Error).message}`);
    }
  } finally {
    clearTimeout(timer);
    await runCleanups(); // whatever the scenario left running (a timeout leaves its stack behind)
  }
  return {
    name: s.name,
    status,
    durationMs: Math.round(performance.now() - t0),
    numbers: chk.numbers,
    failures: chk.failures,
    ...(note ? { note } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  let which = "all";
  let short = false;
  let allowSkip = false;
  let out = join("chaos", "reports", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") {
      process.stdout.write(HELP);
      return 0;
    }
    if (a === "--list") {
      for (const s of SCENARIOS)
        console.log(`${s.name.padEnd(22)} ${s.smoke ? "[smoke] " : "        "}${s.summary}`);
      return 0;
    }
    if (a === "--short") short = true;
    else if (a === "--allow-skip") allowSkip = true;
    else if (a === "--scenario" && argv[i + 1]) which = argv[++i]!;
    else if (a === "--out" && argv[i + 1]) out = argv[++i]!;
    else {
      console.error(`chaos: unknown or incomplete option ${a} (see --help)`);
      return 2;
    }
  }
  let chosen: Scenario[];
  if (which === "all") chosen = [...SCENARIOS];
  else if (which === "smoke") {
    chosen = SCENARIOS.filter((s) => s.smoke);
    short = true;
  } else {
    const names = which.split(",");
    const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
    if (unknown.length > 0) {
      console.error(`chaos: unknown scenario ${unknown.join(", ")} (see --list)`);
      return 2;
    }
    chosen = SCENARIOS.filter((s) => names.includes(s.name));
  }
  installSignalHandlers();
  const results: ScenarioResult[] = [];
  for (const s of chosen) {
    console.log(`--- ${s.name}: ${s.summary}`);
    const r = await runOne(s, short);
    results.push(r);
    console.log(`${r.status} ${r.name} (${(r.durationMs / 1000).toFixed(1)} s) ${JSON.stringify(r.numbers)}`);
    for (const f of r.failures) console.log(`  FAIL: ${f}`);
    if (r.note) console.log(`  ${r.status}: ${r.note}`);
  }
  const count = (st: string) => results.filter((r) => r.status === st).length;
  const summary = {
    at: new Date().toISOString(),
    short,
    allowSkip,
    pass: count("PASS"),
    fail: count("FAIL"),
    skip: count("SKIP"),
    results,
  };
  const path = resolve(out);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `${JSON.stringify(summary, null, 1)}\n`);
  console.log(`chaos: ${summary.pass} PASS, ${summary.fail} FAIL, ${summary.skip} SKIP — summary ${path}`);
  if (summary.skip > 0) {
    const names = results.filter((r) => r.status === "SKIP").map((r) => r.name);
    console.error(
      allowSkip
        ? `chaos: skipped (allowed by --allow-skip): ${names.join(", ")}`
        : `chaos: requested scenario(s) skipped, so not checked: ${names.join(", ")} — exit 1 (--allow-skip accepts skips)`,
    );
  }
  return summary.fail === 0 && (summary.skip === 0 || allowSkip) ? 0 : 1;
}

// Only when run: scripts/lint-workflows.ts imports SCENARIOS and SCENARIO_GROUPS to check the
// chaos-manual workflow's choices against them.
if (import.meta.main) {
  let code = 1;
  try {
    code = await main(Bun.argv.slice(2));
  } finally {
    await runCleanups();
  }
  process.exit(code);
}
