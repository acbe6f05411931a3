/**
 * What order books cost (issue 18, part 7): K2 keeping N books (default 300) from the simulator's
 * `@depth@100ms` streams, the simulator in its own process with book mode on. Reports how long the
 * first sync of every book takes within the REST weight budget (K2_BOOK_SNAPSHOT_LIMIT decides the
 * weight per snapshot: 5 / 25 / 50 / 250), then, once synced, K2's event-loop lag p99 (worst of its
 * /metrics samples over the measuring window), its CPU (% of one core) and RSS, the simulator's
 * CPU beside it, and the book rows stored per second.
 *   bun run native-bench/book-cost.ts [--symbols 300] [--limit 1000] [--seconds 30] [--sync-s 300]
 *     [--flush-ms 1000] [--warnings] [--json]
 */

import { readFileSync } from "node:fs";
import { startK2 } from "../test/support/k2-process.ts";
import { startSimProcess } from "../test/support/sim-process.ts";
import { numberFlag } from "./args.ts";
import { cpuSeconds } from "./cpu.ts";
import { metric } from "./prom.ts";

const argv = Bun.argv.slice(2);
if (argv.includes("--help")) {
  console.log(`native-bench/book-cost.ts — N order books: first-sync time, then lag, CPU, RSS
  --symbols N   books (default 300)
  --limit N     K2_BOOK_SNAPSHOT_LIMIT (default 1000, weight 50)
  --seconds N   measuring window once every book is synced (default 30)
  --sync-s N    give up waiting for the first sync after N s (default 300)
  --flush-ms N  K2_FLUSH_INTERVAL_MS (default 1000: a file per table and symbol each second)
  --warnings    print K2's last warnings
  --json        one JSON line`);
  process.exit(0);
}
const N = numberFlag(argv, "--symbols", 300);
const LIMIT = numberFlag(argv, "--limit", 1000);
const SECONDS = numberFlag(argv, "--seconds", 30);
const SYNC_LIMIT_MS = numberFlag(argv, "--sync-s", 300) * 1000;
const FLUSH_MS = numberFlag(argv, "--flush-ms", 1000);
const SYMBOLS = Array.from({ length: N }, (_, i) => `B${String(i).padStart(3, "0")}USDT`);

const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

const sim = await startSimProcess([
  "--symbols",
  SYMBOLS.join(","),
  "--no-auto-symbols",
  "--books",
  "--rate",
  "5",
  "--max-symbols",
  String(N + 10),
]);
let k2: Awaited<ReturnType<typeof startK2>> | undefined;
try {
  k2 = await startK2(
    {
      K2_SOURCE: "binance",
      K2_BINANCE_WS_URL: sim.wsUrl,
      K2_BINANCE_REST_URL: sim.restUrl,
      K2_SYMBOLS: SYMBOLS.join(","),
      K2_STREAMS: "depth",
      K2_BOOK_SNAPSHOT_LIMIT: String(LIMIT),
      K2_FLUSH_INTERVAL_MS: String(FLUSH_MS),
      K2_CONNECT_MIN_INTERVAL_MS: "0",
    },
    30_000,
  );
  const url = k2.url;
  const metrics = async () => (await fetch(`${url}/metrics`)).text();
  const t0 = performance.now();
  let synced = 0;
  while (performance.now() - t0 < SYNC_LIMIT_MS) {
    synced = metric(await metrics(), "k2_books_synced");
    if (synced >= N) break;
    await Bun.sleep(500);
  }
  const syncS = (performance.now() - t0) / 1000;
  const m0 = await metrics();
  const rows0 = metric(m0, 'k2_rows_accepted_total{table="book_deltas"}');
  const files0 = metric(m0, "k2_files_written_total");
  const k0 = cpuSeconds(k2.proc.pid);
  const s0 = cpuSeconds(sim.proc.pid);
  const w0 = performance.now();
  let lagP99 = 0;
  let rss = 0;
  while (performance.now() - w0 < SECONDS * 1000) {
    await Bun.sleep(1000);
    const m = await metrics();
    lagP99 = Math.max(lagP99, metric(m, "nodejs_eventloop_lag_p99_seconds") * 1000);
    rss = Math.max(rss, rssMb(k2.proc.pid));
  }
  const el = (performance.now() - w0) / 1000;
  const m1 = await metrics();
  const out = {
    books: N,
    snapshot_limit: LIMIT,
    flush_ms: FLUSH_MS,
    files_per_s: Number(((metric(m1, "k2_files_written_total") - files0) / el).toFixed(1)),
    first_sync_s: Number(syncS.toFixed(1)),
    synced_at_end_of_wait: synced,
    snapshot_requests: metric(m1, "k2_book_snapshot_requests_total"),
    resyncs: metric(m1, "k2_book_resyncs_total"),
    storage_refusals: metric(m1, "k2_book_refusals_total"),
    lag_p99_ms: Number(lagP99.toFixed(1)),
    k2_cpu_pct: Number((((cpuSeconds(k2.proc.pid) - k0) / el) * 100).toFixed(1)),
    sim_cpu_pct: Number((((cpuSeconds(sim.proc.pid) - s0) / el) * 100).toFixed(1)),
    k2_peak_rss_mb: Number(rss.toFixed(0)),
    book_delta_rows_per_s: Number(
      ((metric(m1, 'k2_rows_accepted_total{table="book_deltas"}') - rows0) / el).toFixed(0),
    ),
  };
  if (synced < N || argv.includes("--warnings")) {
    const warn = k2
      .logs()
      .split("\n")
      .filter((l) => /"level":(40|50)/.test(l));
    console.error(`not every book synced; K2's last warnings:\n${warn.slice(-8).join("\n")}`);
  }
  if (argv.includes("--json")) console.log(JSON.stringify(out));
  else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(24)} ${v}`);
} finally {
  if (k2) {
    await k2.stop();
    k2.cleanup();
  }
  await sim.stop();
}
