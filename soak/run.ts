#!/usr/bin/env bun
/**
 * Soak: the simulator (in this process) and a real K2 process under sustained load with faults on
 * a schedule; at the end a completeness proof against ground truth and a verdict with numbers.
 * Exit 0 only when the pass criteria hold (see soak/lib/verdict.ts for the exact definitions).
 */
import { join, resolve } from "node:path";
import { type FaultEvent, type FaultKind, faultCycle, uptimePercent } from "./lib/faults.ts";
import { type Finish, finishRun } from "./lib/finish.ts";
import { OHLCV_WINDOW_MS, type Probe, probeLoop, type Sample, sampleLoop } from "./lib/sampler.ts";
import { installSignalHandlers, runCleanups, startStack, waitUntil } from "./lib/stack.ts";
import { fmtMs, parseDuration } from "./lib/stats.ts";
import { buildVerdict, printVerdict, writeReports } from "./lib/verdict.ts";

const HELP = `Usage: bun run soak/run.ts [options]
Runs the Binance simulator and a real K2 process against it, injects faults, samples, then proves
completeness against ground truth and prints a verdict. Loopback only.

  --duration D       run length: 2m, 1h, 24h (default 2m)
  --rate N           total trades per second over all symbols (default 2000)
  --symbols N        number of symbols, 1..200 (default 20)
  --faults every=D   inject the next fault of the cycle every D (e.g. every=30s); omit for none
                     cycle: drop-close, skip-ids, drop-reset, server-shutdown, lose-ids, stall, lifetime-cut
  --fault-kinds K,K  cycle through these kinds only (ablation: one misbehaviour, often)
  --rotate D         K2's make-before-break rotation period (default: a quarter of the run, 30s..23h;
                     ablation: many rotations in one run show memory kept per rotation)
  --sample D         sampling period (default 10s)
  --ohlcv-window D   each sample's 1-min OHLCV query covers the last D (default 1h; ablation: a
                     short window keeps the query's files few while the run grows)
  --data-timeout D   K2_DATA_TIMEOUT_MS for K2 (default 5s)
  --seed N           simulator seed (default 11)
  --out DIR          report folder (default soak/reports/<timestamp>)
  -h, --help         this text

Pass: 0 lost, 0 duplicated, every missing-at-source id in the gap ledger, no crash, K2 exits 0
on SIGTERM; for runs >= 1h also uptime >= 99.99 % outside injected outages, RSS slope < 5 MB/h
and event-loop lag p99 < 20 ms (shorter runs print those but do not gate on them).
Exit code: 0 pass, 1 fail, 2 bad arguments.
`;

const NAMES = ["BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "TRX", "DOT", "LINK", "LTC", "AVAX"];

/** K2's rotation period in a soak: at least 30 s, at most 23 h (Binance cuts a session at 24 h). */
const ROTATE_MIN_MS = 30_000;
const ROTATE_MAX_MS = 82_800_000;

interface Args {
  durationMs: number;
  rate: number;
  symbols: number;
  faultsEveryMs: number | null;
  faultKinds: string[] | null;
  /** The fault kinds to apply in turn: the whole cycle, or those --fault-kinds names. */
  cycle: readonly FaultKind[];
  /** null: a quarter of the run (see main). */
  rotateMs: number | null;
  sampleMs: number;
  ohlcvWindowMs: number;
  dataTimeoutMs: number;
  seed: number;
  out: string;
}

function parseArgs(argv: string[]): Args | "help" {
  const a: Args = {
    durationMs: 120_000,
    rate: 2000,
    symbols: 20,
    faultsEveryMs: null,
    faultKinds: null,
    cycle: faultCycle(null),
    rotateMs: null,
    sampleMs: 10_000,
    ohlcvWindowMs: OHLCV_WINDOW_MS,
    dataTimeoutMs: 5000,
    seed: 11,
    out: join("soak", "reports", new Date().toISOString().replace(/[:.]/g, "-")),
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === "-h" || flag === "--help") return "help";
    const value = inline !== undefined && flag !== "--faults" ? inline : argv[++i];
    if (value === undefined) throw new Error(`${flag}: expected a value`);
    const int = (lo: number, hi: number) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < lo || n > hi)
        throw new Error(`${flag}: expected an integer in ${lo}..${hi}`);
      return n;
    };
    if (flag === "--duration") a.durationMs = parseDuration(value);
    else if (flag === "--rate") a.rate = int(1, 200_000);
    else if (flag === "--symbols") a.symbols = int(1, 200);
    else if (flag === "--rotate") a.rotateMs = parseDuration(value);
    else if (flag === "--sample") a.sampleMs = parseDuration(value);
    else if (flag === "--ohlcv-window") a.ohlcvWindowMs = parseDuration(value);
    else if (flag === "--data-timeout") a.dataTimeoutMs = parseDuration(value);
    else if (flag === "--seed") a.seed = int(0, 2 ** 31);
    else if (flag === "--out") a.out = value;
    else if (flag === "--fault-kinds") a.faultKinds = value.split(",").filter((k) => k !== "");
    else if (flag === "--faults") {
      const v = inline ?? value;
      if (!v.startsWith("every=")) throw new Error(`--faults: expected every=<duration>, got "${v}"`);
      a.faultsEveryMs = parseDuration(v.slice(6));
    } else throw new Error(`unknown option ${flag} (see --help)`);
  }
  a.cycle = faultCycle(a.faultKinds); // names checked before anything starts
  if (a.durationMs < 30_000) throw new Error("--duration: at least 30s");
  if (a.sampleMs < 500) throw new Error("--sample: at least 500ms");
  if (a.ohlcvWindowMs < 60_000) throw new Error("--ohlcv-window: at least 1m (one candle)");
  if (a.rotateMs !== null && (a.rotateMs < ROTATE_MIN_MS || a.rotateMs > ROTATE_MAX_MS))
    throw new Error("--rotate: 30s..23h");
  if (a.faultsEveryMs !== null && a.faultsEveryMs < 2 * a.dataTimeoutMs)
    throw new Error("--faults every: at least twice the data timeout, so faults do not overlap");
  return a;
}

async function main(argv: string[]): Promise<number> {
  let args: Args | "help";
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`soak: ${(e as Error).message}`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  installSignalHandlers();
  const symbols = Array.from({ length: args.symbols }, (_, i) =>
    i < NAMES.length ? `${NAMES[i]}USDT` : `SYM${String(i).padStart(3, "0")}USDT`,
  );
  // Rotation several times per run (make-before-break), the simulator's own cut 60 s later:
  // if K2 ever failed to rotate in time, the cut shows up as sim lifetime disconnects.
  const rotateMs =
    args.rotateMs ?? Math.min(ROTATE_MAX_MS, Math.max(ROTATE_MIN_MS, Math.round(args.durationMs / 4)));
  const lifetimeMs = rotateMs + 60_000;
  const reconnectMaxMs = 8000;
  console.log(
    `soak: ${fmtMs(args.durationMs)}, ${args.rate} trades/s over ${args.symbols} symbols, faults ${args.faultsEveryMs ? `every ${fmtMs(args.faultsEveryMs)}${args.faultKinds ? ` (${args.faultKinds.join(", ")} only)` : ""}` : "off"}, rotation every ${fmtMs(rotateMs)}${args.ohlcvWindowMs === OHLCV_WINDOW_MS ? "" : `, OHLCV probe over the last ${fmtMs(args.ohlcvWindowMs)}`}`,
  );
  const stack = await startStack({
    symbols,
    sim: { ratePerSec: args.rate / args.symbols, seed: args.seed, faults: { maxLifetimeMs: lifetimeMs } },
    env: {
      K2_DATA_TIMEOUT_MS: String(args.dataTimeoutMs),
      K2_RECONNECT_MAX_MS: String(reconnectMaxMs),
      K2_ROTATE_AFTER_MS: String(rotateMs),
      K2_QUERY_MEMORY_MB: "256",
    },
  });
  const readyMs = await waitUntil(async () => (await stack.ready()) === 200, 30_000, 200);
  console.log(`K2 ${stack.k2.url} (pid ${stack.k2.proc.pid}) ready in ${fmtMs(readyMs ?? Number.NaN)}`);

  const t0 = performance.now();
  const samples: Sample[] = [];
  const probes: Probe[] = [];
  const faults: FaultEvent[] = [];
  let crashed: string | null = readyMs === null ? "never became ready within 30 s" : null;
  let finishing = false;
  void stack.k2.proc.exited.then((code) => {
    if (!finishing) crashed = `K2 exited with code ${code} during the run`;
  });
  const control = { t0, deadline: t0 + args.durationMs, stopped: () => crashed !== null };
  const shards = Math.ceil((symbols.length * 3) / 1024);
  const faultLoop = async () => {
    const every = args.faultsEveryMs;
    if (every === null) return;
    const ctx = { sim: stack.sim, dataTimeoutMs: args.dataTimeoutMs, maxHoldMs: every / 2, lifetimeMs };
    for (let i = 0; i < Math.ceil(args.durationMs / every) + 1; i++) {
      const at = t0 + (i + 1) * every;
      // Leave the last stretch fault-free so the end-of-run settle measures K2, not a fault.
      if (at > control.deadline - every / 2 || control.stopped()) return;
      await Bun.sleep(at - performance.now());
      const kind = args.cycle[i % args.cycle.length]!;
      const startMs = performance.now() - t0;
      await kind.apply(ctx);
      faults.push({ name: kind.name, outage: kind.outage, startMs, endMs: performance.now() - t0 });
      console.log(`[${fmtMs(startMs)}] fault ${kind.name}`);
    }
  };
  const progress = async () => {
    for (let i = 0; i < 1e6 && performance.now() < control.deadline && !control.stopped(); i++) {
      await Bun.sleep(Math.min(60_000, Math.max(0, control.deadline - performance.now())));
      if (performance.now() >= control.deadline - 100) return;
      const s = samples[samples.length - 1];
      if (s)
        console.log(
          `[${fmtMs(s.tMs)}] rss ${s.rssMB.toFixed(0)} MB (anon ${s.mem.rssAnon.toFixed(0)} of which hot windows ${s.mem.hotWindows.toFixed(0)}, file ${s.mem.rssFile.toFixed(0)}; duckdb ${s.mem.duckdb.toFixed(0)}, js objects ${s.mem.jsObjects.toFixed(0)}, parquet worker heap ${s.mem.parquetWorkerHeap.toFixed(0)}), lag p99 ${s.lagP99Ms.toFixed(1)} ms, ${s.framesPerSec.toFixed(0)} frames/s, ${s.rowsWritten} rows written`,
        );
    }
  };
  await Promise.all([
    probeLoop(stack, control, shards, 1000, probes),
    sampleLoop(stack, control, args.sampleMs, samples, args.ohlcvWindowMs),
    faultLoop(),
    progress(),
  ]);
  const durationMs = performance.now() - t0;

  finishing = true;
  let finish: Finish | undefined;
  if (crashed === null) {
    console.log(
      "run over: faults off, settling gap repair, cutting ground truth, SIGTERM, reading files back",
    );
    finish = await finishRun(stack, 120_000);
  }
  const uptime = uptimePercent(probes, faults, args.dataTimeoutMs + reconnectMaxMs + 2000);
  const verdict = buildVerdict({
    args: { ...args, rotateMs, lifetimeMs, reconnectMaxMs },
    durationMs,
    samples,
    probes,
    faults,
    uptime,
    finish,
    crashed,
    simStats: stack.sim.stats(),
  });
  await stack.close();
  printVerdict(verdict);
  const out = resolve(args.out);
  writeReports(out, verdict, samples);
  console.log(`reports: ${join(out, "report.json")} ${join(out, "report.html")}`);
  return verdict.pass ? 0 : 1;
}

let code = 1;
try {
  code = await main(Bun.argv.slice(2));
} catch (e) {
  console.error(`soak: ${(e as Error).stack ?? e}`);
} finally {
  await runCleanups();
}
process.exit(code);
