/**
 * Upgrade rehearsal (issue 13): the running K2 ("blue") is an earlier commit of K2, checked out in
 * a git worktree; the new one ("green") is this tree. Green takes over the way an operator would
 * upgrade, and the usual guarantees are checked: every trade, aggTrade and quote once (against
 * the simulator's ground truth), no request failed, blue's files served by green.
 *
 *   bun run operational/upgrade-rehearsal.ts [--from <commit>]   (default: the first commit that
 *   ships the hand-over, src/owner/handover.ts)
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "../test/support/bounded-run.ts";
import { httpClient, pauseAndDrain, startRig } from "../test/support/handover-rig.ts";
import { ROOT } from "../test/support/k2-process.ts";
import { clean, tableVerdicts, writeReport } from "./lib/verdict.ts";

function git(args: string[], cwd = ROOT): string {
  const r = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

const i = Bun.argv.indexOf("--from");
const from =
  i > 0
    ? Bun.argv[i + 1]!
    : git(["log", "--diff-filter=A", "--format=%H", "--", "src/owner/handover.ts"]).split("\n").at(-1)!;
const fromShort = git(["rev-parse", "--short", from]);
const head = git(["rev-parse", "--short", "HEAD"]);
const base = mkdtempSync(join(tmpdir(), "k2-rehearsal-"));
const tree = join(base, "k2");
git(["worktree", "add", "--detach", tree, from]);
let code = 1;
try {
  const inst = Bun.spawnSync([process.execPath, "install", "--frozen-lockfile"], {
    cwd: tree,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (inst.exitCode !== 0) throw new Error(`bun install in ${tree}: ${inst.stderr.toString()}`);
  const rig = await startRig({ rate: 200 });
  try {
    const blue = rig.spawn({}, tree);
    await waitUntil(() => blue.logs().includes('"msg":"k2 serving"'), 20_000, `blue (${fromShort}) to serve`);
    await waitUntil(async () => (await rig.sim.stats()).connections >= 1, 10_000, "blue's session");
    await rig.sim.pause(false);
    await waitUntil(
      async () => (await fetch(`${rig.url}/health/ready`)).status === 200,
      15_000,
      "blue ready",
    );
    const client = httpClient(rig.url, 25, rig.symbols);
    await Bun.sleep(2000);
    const green = await rig.start();
    const blueExit = await blue.proc.exited;
    await Bun.sleep(2000);
    await client.stop();
    await pauseAndDrain(rig, rig.url);
    const gt = await rig.sim.groundTruth();
    // Blue's files, served by green: the oldest page starts at the run's first trade.
    const sym = rig.symbols[0]!;
    const page = (await (await fetch(`${rig.url}/v1/trades?symbol=${sym}&limit=1`)).json()) as {
      data: { trade_id: number }[];
    };
    const firstServed = page.data[0]?.trade_id;
    const greenExit = (await green.stop()).code;
    const tables = await tableVerdicts(rig.dir, gt, rig.symbols);
    const firstTruth = gt.symbols[sym]!.tradeIds[0]![0];
    const ok =
      clean(tables) &&
      client.failures.length === 0 &&
      blueExit === 0 &&
      greenExit === 0 &&
      firstServed === firstTruth;
    const report = {
      from: fromShort,
      to: `${head} + working tree`,
      tables,
      requests: client.sent(),
      failed_requests: client.failures.length,
      failures_sample: client.failures.slice(0, 5),
      blue_exit: blueExit,
      green_exit: greenExit,
      first_trade_served_by_green: firstServed,
      first_trade_of_the_run: firstTruth,
      verdict: ok ? "PASS" : "FAIL",
    };
    mkdirSync("operational/reports", { recursive: true });
    const path = writeReport("operational/reports", "upgrade-rehearsal", report);
    console.log(JSON.stringify(report));
    console.log(`${report.verdict} upgrade-rehearsal ${fromShort} → ${head} — report ${path}`);
    code = ok ? 0 : 1;
  } finally {
    await rig.close();
  }
} finally {
  git(["worktree", "remove", "--force", tree]);
  rmSync(base, { recursive: true, force: true });
}
process.exit(code);
