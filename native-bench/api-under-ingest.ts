/**
 * The API under load while ingesting: the simulator (child process) sends --rate trades/s, a real
 * K2 (child process, K2_SOURCE=binance pointed at the simulator, own temp data dir, rate limiter
 * out of the way) ingests them, and autocannon (in this process) hammers one /v1 route. Reports
 * req/s, latency p50/p99, non-2xx, K2's CPU (from /proc/<pid>/stat) while only ingesting and
 * during the load; then stops K2 with SIGTERM and proves ingestion lost nothing: the trade ids
 * stored (read back with DuckDB) equal the simulator's deliverable ground truth between the
 * first and last stored id, each exactly once. Loopback only; every child is killed on exit.
 *   bun run native-bench/api-under-ingest.ts [--help]
 */
import autocannon from "autocannon";
import type { GroundTruth, Simulator } from "../src/sim/index.ts";
import { type K2Process, startK2 } from "../test/support/k2-process.ts";
import { deliverableIds } from "../test/support/source-harness.ts";
import { storedTradeIds } from "../test/support/stored.ts";
import { numberFlag } from "./args.ts";
import { cpuPercentOver } from "./cpu.ts";

const HELP = `native-bench/api-under-ingest.ts — autocannon on a K2 that ingests from the simulator
  --rate N          simulator trades per second, total over --symbols (default 10000)
  --symbols A,B     symbols, the rate split evenly (default BTCUSDT)
  --path P          route to load (default /v1/trades?symbol=BTCUSDT&limit=100)
  --seconds N       autocannon duration (default 10)
  --connections N   autocannon connections (default 10)
  --warmup-s N      ingest-only time before the load, also the CPU baseline (default 5)
  --threads N       K2_QUERY_THREADS for K2 (default: K2's own default)
  --json            print only the JSON line
exit code: 0 when every request succeeded and ingestion lost nothing, 1 otherwise, 2 bad arguments`;

const argv = Bun.argv.slice(2);
if (argv.includes("--help")) {
  console.log(HELP);
  process.exit(0);
}
function flag(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const RATE = numberFlag(Bun.argv, "--rate", 10_000, { max: 200_000 });
const SYMBOLS = (flag("--symbols") ?? "BTCUSDT").split(",");
if (!SYMBOLS.every((s) => /^[A-Z0-9]{2,20}$/.test(s))) {
  console.error("--symbols: expected comma-separated symbols like BTCUSDT,ETHUSDT");
  process.exit(2);
}
const PATH = flag("--path") ?? "/v1/trades?symbol=BTCUSDT&limit=100";
const SECONDS = numberFlag(Bun.argv, "--seconds", 10, { max: 300 });
const CONNECTIONS = numberFlag(Bun.argv, "--connections", 10, { max: 1000 });
const WARMUP_S = numberFlag(Bun.argv, "--warmup-s", 5, { max: 120 });
const THREADS = flag("--threads");
const JSON_ONLY = argv.includes("--json");
const log = (s: string) => {
  if (!JSON_ONLY) console.log(s);
};

// Bounded: whatever happens, children die and the script exits.
const children: { kill(sig?: number | NodeJS.Signals): void; readonly exitCode: number | null }[] = [];
const killAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
};
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
const deadline = setTimeout(
  () => {
    console.error("api-under-ingest: overall time limit reached; children killed");
    killAll();
    process.exit(1);
  },
  (WARMUP_S + SECONDS + 120) * 1000,
);

/** The simulator as a child process, so its send loop does not share an event loop with autocannon. */
async function startSim() {
  const proc = Bun.spawn(
    [
      process.execPath,
      "run",
      "src/sim/main.ts",
      "--port",
      "0",
      "--symbols",
      SYMBOLS.join(","),
      "--rate",
      String(RATE / SYMBOLS.length),
      "--seed",
      "11",
      // Enough history that REST can repair any gap a busy moment opens.
      "--history",
      "1000000",
    ],
    { cwd: `${import.meta.dir}/..`, stdout: "pipe", stderr: "inherit", stdin: "ignore" },
  );
  children.push(proc);
  const reader = proc.stdout.getReader();
  let text = "";
  const until = Date.now() + 10_000;
  while (!text.includes("\n") && Date.now() < until) {
    const r = await Promise.race([reader.read(), Bun.sleep(until - Date.now()).then(() => undefined)]);
    if (!r || r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  const info = JSON.parse(text.split("\n")[0] ?? "{}") as {
    wsUrl?: string;
    restUrl?: string;
    adminUrl?: string;
  };
  if (!info.wsUrl || !info.restUrl || !info.adminUrl) throw new Error(`simulator did not start: ${text}`);
  return { proc, wsUrl: info.wsUrl, restUrl: info.restUrl, adminUrl: info.adminUrl };
}

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string) {
  const until = performance.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (performance.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const sim = await startSim();
log(`simulator: ${SYMBOLS.join(",")} at ${RATE} trades/s total (${sim.wsUrl})`);
let k2: K2Process | undefined;
let exitCode = 0;
try {
  k2 = await startK2({
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: sim.wsUrl,
    K2_BINANCE_REST_URL: sim.restUrl,
    K2_SYMBOLS: SYMBOLS.join(","),
    K2_CONNECT_MIN_INTERVAL_MS: "0",
    K2_RATE_LIMIT_PER_S: "1000000",
    K2_RATE_LIMIT_BURST: "1000000",
    K2_LOG_LEVEL: "info",
    ...(THREADS ? { K2_QUERY_THREADS: THREADS } : {}),
  });
  children.push(k2.proc);
  const url = k2.url;
  const pid = k2.proc.pid;
  await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 15_000, "K2 ready");
  await waitFor(
    async () =>
      (await fetch(`${url}${PATH}`)).ok &&
      ((await (await fetch(`${url}${PATH}`)).json()) as { data: unknown[] }).data.length > 0,
    15_000,
    "rows over the API",
  );
  const idle = await cpuPercentOver(pid, () => Bun.sleep(WARMUP_S * 1000));
  log(`K2 pid ${pid}: ${idle.pct.toFixed(0)}% CPU while only ingesting (${WARMUP_S} s)`);

  const loaded = await cpuPercentOver(pid, () =>
    autocannon({ url: `${url}${PATH}`, connections: CONNECTIONS, duration: SECONDS }),
  );
  const r = loaded.result as autocannon.Result;

  const newest = (await (await fetch(`${url}/v1/trades?symbol=${SYMBOLS[0]}&order=desc&limit=1`)).json()) as {
    data: { trade_id: number; trade_time_us: number }[];
  };
  const stop = await k2.stop("SIGTERM");
  const gt = (await (await fetch(`${sim.adminUrl}/ground-truth`)).json()) as GroundTruth;
  sim.proc.kill("SIGTERM");
  await Promise.race([sim.proc.exited, Bun.sleep(5000)]);

  const stored = await storedTradeIds(k2.dataDir);
  const truth = { groundTruth: () => gt } as Pick<Simulator, "groundTruth"> as Simulator;
  const ingest = SYMBOLS.map((symbol) => {
    const got = stored.get(symbol);
    if (!got || got.ids.length === 0)
      return { symbol, stored: 0, expected: 0, missing: -1, duplicates: 0, ok: false };
    const first = got.ids[0]!;
    const last = got.ids[got.ids.length - 1]!;
    const want = deliverableIds(truth, symbol, first, last);
    const have = new Set(got.ids);
    const missing = want.filter((id) => !have.has(id)).length;
    const extra = got.distinct - (want.length - missing);
    const ok = missing === 0 && extra === 0 && got.rows === got.distinct;
    return {
      symbol,
      first_id: first,
      last_id: last,
      stored: got.rows,
      expected: want.length,
      missing,
      unexpected: extra,
      duplicates: got.rows - got.distinct,
      ok,
    };
  });
  const lost = ingest.some((x) => !x.ok);
  const failed = r.non2xx + r.errors + r.timeouts;
  if (lost || failed > 0 || stop.code !== 0) exitCode = 1;

  const summary = {
    bench: "api-under-ingest",
    path: PATH,
    rate_trades_per_s: RATE,
    symbols: SYMBOLS,
    connections: CONNECTIONS,
    seconds: SECONDS,
    req_per_s: Math.round(r.requests.average),
    requests: r.requests.total,
    latency_p50_ms: r.latency.p50,
    latency_p99_ms: r.latency.p99,
    latency_max_ms: r.latency.max,
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    k2_cpu_pct_ingest_only: Math.round(idle.pct),
    k2_cpu_pct_under_load: Math.round(loaded.pct),
    newest_trade_id_after_load: newest.data[0]?.trade_id ?? null,
    k2_exit_code: stop.code,
    k2_stop_ms: Math.round(stop.ms),
    ingest,
    ingestion_lost_nothing: !lost,
  };
  if (!JSON_ONLY) {
    console.table([
      {
        "req/s": summary.req_per_s,
        "p50 ms": summary.latency_p50_ms,
        "p99 ms": summary.latency_p99_ms,
        "non-2xx+err": failed,
        "K2 CPU % ingest": summary.k2_cpu_pct_ingest_only,
        "K2 CPU % load": summary.k2_cpu_pct_under_load,
      },
    ]);
    console.table(ingest);
    console.log(
      `K2 exit ${stop.code} after SIGTERM in ${summary.k2_stop_ms} ms; ingestion lost nothing: ${!lost}`,
    );
  }
  console.log(JSON.stringify(summary));
} catch (e) {
  console.error(`api-under-ingest: ${(e as Error).message}`);
  if (k2) console.error(k2.logs().split("\n").slice(-20).join("\n"));
  exitCode = 1;
} finally {
  clearTimeout(deadline);
  killAll();
  k2?.cleanup();
}
process.exit(exitCode);
