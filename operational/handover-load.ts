/**
 * Hand-overs under load (issue 13): `--rounds` hand-overs in a row while the simulator (its own
 * process) sends trades, aggTrades and bookTicker for `--symbols` symbols at `--rate` trades/s in
 * all, and a client asks on fresh connections `--rps` times a second. Each round starts a new K2
 * on the same data dir and port and waits for the old one to exit. The verdict: per table 0
 * lost, 0 duplicated (quotes against the simulator's record of every update id sent), 0 failed
 * requests; per round the hand-over time (new K2 started → old K2 exited) and the overlap.
 *
 * `--mode restart` does what an upgrade was before: SIGTERM the running K2, then start the new one.
 * Trades and aggTrades must still be complete (REST repairs the downtime); the quotes lost and the
 * requests refused are reported — the cost the hand-over removes.
 *
 *   bun run operational/handover-load.ts [--mode handover|restart] [--rounds 10] [--rate 2000]
 *     [--symbols 20] [--rps 40] [--hold-ms 3000]
 */
import { mkdirSync } from "node:fs";
import { waitUntil } from "../test/support/bounded-run.ts";
import { httpClient, pauseAndDrain, startRig } from "../test/support/handover-rig.ts";
import type { K2Process } from "../test/support/k2-process.ts";
import { clean, tableVerdicts, writeReport } from "./lib/verdict.ts";

function arg(name: string, dflt: number): number {
  const i = Bun.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(Bun.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

if (Bun.argv.includes("--help")) {
  console.log(
    "usage: bun run operational/handover-load.ts [--mode handover|restart] [--rounds 10] [--rate 2000] [--symbols 20] [--rps 40] [--hold-ms 3000]",
  );
  process.exit(0);
}
const rounds = arg("rounds", 10);
const rate = arg("rate", 2000);
const nSymbols = arg("symbols", 20);
const rps = arg("rps", 40);
const holdMs = arg("hold-ms", 3000);
const mi = Bun.argv.indexOf("--mode");
const mode = mi > 0 ? Bun.argv[mi + 1] : "handover";
if (mode !== "handover" && mode !== "restart") throw new Error("--mode: expected handover or restart");
const symbols = Array.from({ length: nSymbols }, (_, i) => `S${String(i).padStart(2, "0")}USDT`);

const rig = await startRig({ symbols, rate: rate / nSymbols });
let code = 1;
try {
  let live = await rig.start({ K2_RATE_LIMIT_PER_S: String(rps * 4) });
  await waitUntil(async () => (await rig.sim.stats()).connections >= 1, 10_000, "the first K2's session");
  await rig.sim.pause(false);
  await waitUntil(async () => (await fetch(`${rig.url}/health/ready`)).status === 200, 15_000, "ready");
  const client = httpClient(rig.url, 1000 / rps, symbols);
  const perRound: Record<string, unknown>[] = [];
  for (let round = 1; round <= rounds; round++) {
    await Bun.sleep(holdMs);
    const t0 = performance.now();
    let next: K2Process;
    let oldExit: number | null;
    if (mode === "restart") {
      oldExit = (await live.stop()).code;
      next = await rig.start({ K2_RATE_LIMIT_PER_S: String(rps * 4) });
    } else {
      next = await rig.start({ K2_RATE_LIMIT_PER_S: String(rps * 4) });
      oldExit = await live.proc.exited;
      await waitUntil(() => next.logs().includes('"msg":"handover complete"'), 10_000, "the summary line");
    }
    const handoverMs = Math.round(performance.now() - t0);
    const line = next
      .logs()
      .split("\n")
      .find((l) => l.includes('"msg":"handover complete"'));
    const s = (line ? JSON.parse(line) : { overlap_ms: null, staged_frames: null }) as {
      overlap_ms: number | null;
      staged_frames: number | null;
    };
    const r = {
      round,
      handover_ms: handoverMs,
      overlap_ms: s.overlap_ms,
      staged_frames: s.staged_frames,
      old_exit: oldExit,
      failed_requests_so_far: client.failures.length,
    };
    perRound.push(r);
    console.log(JSON.stringify(r));
    live = next;
  }
  await Bun.sleep(holdMs);
  await client.stop();
  await pauseAndDrain(rig, rig.url);
  const gt = await rig.sim.groundTruth();
  const lastExit = (await live.stop()).code;
  const tables = await tableVerdicts(rig.dir, gt, symbols);
  const times = perRound.map((r) => r.handover_ms as number).sort((a, b) => a - b);
  const report = {
    mode,
    rounds,
    rate_trades_per_s: rate,
    symbols: nSymbols,
    client_rps: rps,
    requests: client.sent(),
    failed_requests: client.failures.length,
    failures_sample: client.failures.slice(0, 5),
    handover_ms: { min: times[0], median: times[Math.floor(times.length / 2)], max: times.at(-1) },
    rounds_detail: perRound,
    tables,
    last_exit: lastExit,
  };
  // A restart loses quotes and refuses requests by nature: it must still keep every trade once.
  const lossless = mode === "restart" ? tables.filter((t) => t.table !== "quotes") : tables;
  const ok =
    clean(lossless) &&
    tables.every((t) => t.duplicated === 0 && t.unexpected === 0) &&
    (mode === "restart" || client.failures.length === 0) &&
    lastExit === 0 &&
    perRound.every((r) => r.old_exit === 0);
  mkdirSync("operational/reports", { recursive: true });
  const path = writeReport("operational/reports", `${mode}-load`, {
    ...report,
    verdict: ok ? "PASS" : "FAIL",
  });
  console.log(
    JSON.stringify({
      tables,
      failed_requests: report.failed_requests,
      requests: report.requests,
      handover_ms: report.handover_ms,
    }),
  );
  console.log(`${ok ? "PASS" : "FAIL"} ${mode}-load — report ${path}`);
  code = ok ? 0 : 1;
} finally {
  await rig.close();
}
process.exit(code);
