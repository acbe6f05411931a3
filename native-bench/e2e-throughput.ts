/**
 * The whole durable path against the socket (issue 15 target 1), in one run: the simulator as its
 * own process (src/sim/main.ts) at maximum rate, paced by its reader (--pace-bytes: a tick waits
 * while the reader has unsent bytes, so nothing is dropped and the market runs exactly as fast as
 * that reader drains), 10 symbols. Phases, each with a fresh simulator started the same way:
 *   bare:  a Bun WebSocket client in its own process that only counts frames (the raw-receive limit)
 *   k2:    a real K2 (default settings, WAL on), trade stream → rows visible in Parquet
 *   all3:  the same K2 setup on trade + aggTrade + bookTicker at once → rows/s per table
 * K2's rows are counted with DuckDB (an independent reader) and checked id by id against the
 * simulator's ground truth: lost and duplicated per table. Rates are rows (frames) over the time
 * from the market's resume to the last row visible (the last frame received).
 * The bare client's event-loop lag p99 is measured the same way, as what the receive alone costs.
 * Also reported for K2: event-loop lag p99 (its /metrics, the worst 10 s window of the run), peak
 * RSS, RSS at 60 s (with --seconds ≥ 60), ring refusals, socket pauses, reconnects.
 * At 60 s it also takes K2's memory apart (/proc RssAnon / RssFile and K2's memory gauges), and
 * --k2-env KEY=VALUE (repeatable) sets a K2 config key (or BUN_OPTIONS, e.g. --smol) for an
 * ablation, one change at a time.
 *   bun run native-bench/e2e-throughput.ts [--seconds 20] [--symbols 10] [--phases bare,k2,all3]
 *     [--per-tick 1000] [--tick-ms 5] [--cpu-prof DIR] [--k2-env K=V] [--json] [--logs]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { LoopLagMonitor } from "../src/obs/loop-lag.ts";
import { Histogram } from "../src/obs/metrics.ts";
import { LAG_BUCKETS_S } from "../src/obs/process.ts";
import type { TruthTable } from "../test/support/bounded-run.ts";
import { startK2 } from "../test/support/k2-process.ts";
import { startSimProcess } from "../test/support/sim-process.ts";
import { numberFlag } from "./args.ts";
import { compareStored, rangeCount, type TableCheck, truthRanges } from "./e2e-stored.ts";
import { type LagReading, type LagWindows, lagWindows } from "./lag-windows.ts";
import { benchSymbols, type MaxRateMarket, maxRateSimArgs, streamUrl } from "./max-rate-sim.ts";
import { histogram, metric } from "./prom.ts";

const argv = Bun.argv.slice(2);
const HELP = `native-bench/e2e-throughput.ts — socket → rows visible in Parquet, K2 vs a bare client
  --seconds N     market running time per phase (default 20)
  --symbols N     symbols (default 10)
  --phases LIST   comma-separated of bare,k2,all3 (default all three)
  --per-tick N    simulator trades per symbol per tick (default 1000)
  --tick-ms N     simulator tick (default 5)
  --catch-up-s N  after the market pauses, wait at most N s for every row to be visible (default 180)
  --cpu-prof DIR  K2 writes a CPU profile (.cpuprofile and .md) into DIR when it exits
  --k2-env K=V    a K2 config key (or BUN_OPTIONS) for the K2 phases (repeatable; memory ablations)
  --json          one JSON line
  --logs          K2's warnings and errors on stderr`;
if (argv.includes("--help")) {
  console.log(HELP);
  process.exit(0);
}
const SECONDS = numberFlag(argv, "--seconds", 20);
const SYMBOL_COUNT = numberFlag(argv, "--symbols", 10);
const PER_TICK = numberFlag(argv, "--per-tick", 1000);
const TICK_MS = numberFlag(argv, "--tick-ms", 5);
const PROF_DIR = argv.includes("--cpu-prof") ? argv[argv.indexOf("--cpu-prof") + 1] : undefined;
const CATCH_UP_LIMIT_MS = numberFlag(argv, "--catch-up-s", 180) * 1000;
const K2_ENV = k2EnvFlags(argv);
const SYMBOLS = benchSymbols(SYMBOL_COUNT);
const STREAM_TABLE = { trade: "trades", aggTrade: "agg_trades", bookTicker: "quotes" } as const;
type Stream = keyof typeof STREAM_TABLE;

/** Every `--k2-env KEY=VALUE`, as an env object; a malformed one exits 2 (a silent typo would ablate nothing). */
function k2EnvFlags(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a !== "--k2-env") return;
    const m = /^(K2_[A-Z0-9_]+|BUN_OPTIONS)=(.*)$/.exec(args[i + 1] ?? "");
    if (!m) {
      console.error(`--k2-env: expected K2_KEY=VALUE or BUN_OPTIONS=..., got ${JSON.stringify(args[i + 1])}`);
      process.exit(2);
    }
    out[m[1]!] = m[2]!;
  });
  return out;
}

/** Same simulator for every phase (max-rate-sim.ts). */
function market(streams: readonly Stream[]): MaxRateMarket {
  return { symbols: SYMBOLS, streams, perTick: PER_TICK, tickMs: TICK_MS };
}

/** Child process: count frames; report once the socket has been quiet for 1 s after the first. */
async function bareClient(url: string): Promise<void> {
  let frames = 0;
  let lastAtMs = 0;
  // The same lag measure as K2's /metrics (a 20 ms timer, p99 of a 10 s window, the worst window
  // once a second): what the receive alone does to an event loop, beside K2's.
  // Also a lag histogram with K2's buckets, read at the first frame and once a second after
  // (lag-windows.ts).
  const h = new Histogram("lag", "", LAG_BUCKETS_S);
  const readings: LagReading[] = [];
  const read = () => readings.push({ atMs: Date.now(), cum: h.cumulative() });
  const lag = new LoopLagMonitor(20, 10_000, (ms) => h.observe(ms / 1000));
  let lagP99 = 0;
  const lagPoll = setInterval(() => {
    if (frames === 0) return;
    lagP99 = Math.max(lagP99, lag.quantile(0.99));
    read();
  }, 1000);
  lag.start();
  const ws = new WebSocket(url);
  ws.onmessage = () => {
    if (frames++ === 0) read();
    lastAtMs = Date.now();
  };
  await new Promise<void>((r) => {
    ws.onopen = () => r();
  });
  process.stdout.write("ready\n");
  while (frames === 0 || Date.now() - lastAtMs < 1000) await Bun.sleep(50);
  ws.close();
  clearInterval(lagPoll);
  lag.stop();
  // Readings after the last frame hold some of the quiet second the client waits: not the run's.
  const inRun = readings.filter((r) => r.atMs <= lastAtMs);
  const windows = lagWindows(LAG_BUCKETS_S, inRun);
  process.stdout.write(`${JSON.stringify({ frames, lastAtMs, lagP99, windows })}\n`);
  process.exit(0);
}

async function bare() {
  const streams: Stream[] = ["trade"];
  const sim = await startSimProcess(maxRateSimArgs(market(streams)));
  try {
    const child = Bun.spawn(
      [process.execPath, "run", import.meta.path, "--client", streamUrl(sim.wsUrl, market(streams))],
      { stdout: "pipe", stderr: "inherit" },
    );
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("ready\n")) {
      const c = await reader.read();
      if (c.done) throw new Error(`bare client exited before connecting: ${out}`);
      out += new TextDecoder().decode(c.value);
    }
    const cpu0 = procSample(child.pid)?.cpuS ?? 0;
    const t0 = Date.now();
    await sim.pause(false);
    await Bun.sleep(SECONDS * 1000);
    await sim.pause(true);
    const st = await sim.stats();
    const cpuS = (procSample(child.pid)?.cpuS ?? cpu0) - cpu0;
    while (!out.includes("}\n")) {
      const c = await reader.read();
      if (c.done) break;
      out += new TextDecoder().decode(c.value);
    }
    await child.exited;
    const r = JSON.parse(out.slice(out.indexOf("{"))) as {
      frames: number;
      lastAtMs: number;
      lagP99: number;
      windows?: LagWindows;
    };
    return {
      frames: r.frames,
      frames_sent: st.framesSent,
      frames_per_s: Math.round(r.frames / ((r.lastAtMs - t0) / 1000)),
      cpu_us_per_frame: Number(((cpuS * 1e6) / r.frames).toFixed(2)),
      lag_p99_ms: Number(r.lagP99.toFixed(1)),
      lag_run_windows: r.windows ?? null,
      sim_ticks_paced: st.ticksPaced,
    };
  } finally {
    await sim.stop();
  }
}

/** Min, median and max of samples (MB, rounded); null without samples. */
function spread(xs: readonly number[]): { min: number; median: number; max: number } | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return { min: Math.round(s[0]!), median: Math.round(s[s.length >> 1]!), max: Math.round(s[s.length - 1]!) };
}

/** K2's memory at one moment, in MB: the kernel's split and K2's own gauges (its /metrics). */
function memoryBreakdown(pid: number, metrics: string): Record<string, number | null> {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    // the process ended; the /proc fields are null below
  }
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  };
  const mb = (name: string) => {
    const v = metric(metrics, name);
    return Number.isFinite(v) ? Math.round(v / 2 ** 20) : null;
  };
  return {
    vm_rss: kb("VmRSS"),
    rss_anon: kb("RssAnon"),
    rss_file: kb("RssFile"),
    js_objects: mb("k2_memory_js_objects_bytes"),
    js_external: mb("k2_memory_js_external_bytes"),
    parquet_worker_heap: mb("k2_memory_parquet_worker_heap_bytes"),
    hot_filled: mb("k2_query_hot_filled_bytes"),
    hot_reserved: mb("k2_query_hot_reserved_bytes"),
    duckdb: mb("k2_query_duckdb_memory_bytes"),
    page_cache: mb("k2_api_page_cache_bytes"),
  };
}

/** CPU seconds (user + system) and RSS of a pid, from /proc. */
function procSample(pid: number): { cpuS: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuS: (Number(f[11]) + Number(f[12])) / 100, rssMb: Number(rss?.[1] ?? 0) / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread name of a process (/proc/<pid>/task/*): K2's main thread (the socket,
 * decode, WAL, ring, batcher, hot window) apart from the Parquet worker and the runtime's helpers.
 */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** Share of the CPU used between two threadCpu samples, per thread name (those above 1 %). */
function threadShares(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const used = new Map<string, number>();
  let total = 0;
  for (const [name, s] of after) {
    const d = s - (before.get(name) ?? 0);
    used.set(name, d);
    total += d;
  }
  const out: Record<string, number> = {};
  for (const [name, d] of [...used].sort((a, b) => b[1] - a[1]))
    if (total > 0 && d / total >= 0.01) out[name] = Number(((100 * d) / total).toFixed(1));
  return out;
}

/** Rows visible in Parquet, from file metadata (cheap enough to poll while K2 catches up). */
async function visibleRows(dir: string, tables: readonly string[]): Promise<number> {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  let n = 0;
  try {
    for (const t of tables) {
      const glob = join(dir, t, "*", "*", "*.parquet");
      const r = await conn
        .runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${glob}', hive_partitioning = true)`)
        .catch(() => undefined);
      n += Number(r?.getRowObjectsJS()[0]?.n ?? 0);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return n;
}

async function k2Phase(streams: readonly Stream[]) {
  const tables: TruthTable[] = streams.map((s) => STREAM_TABLE[s]);
  const sim = await startSimProcess(maxRateSimArgs(market(streams)));
  const k = await startK2(
    {
      K2_SOURCE: "binance",
      K2_BINANCE_WS_URL: sim.wsUrl,
      K2_BINANCE_REST_URL: sim.restUrl,
      K2_SYMBOLS: SYMBOLS.join(","),
      K2_STREAMS: streams.join(","),
      K2_CONNECT_MIN_INTERVAL_MS: "0",
      ...K2_ENV,
      // Bun reads extra CLI flags from BUN_OPTIONS: K2 writes a CPU profile (markdown too) on exit.
      ...(PROF_DIR ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-md --cpu-prof-dir=${PROF_DIR}` } : {}),
    },
    30_000,
  );
  try {
    const deadline = Date.now() + 15_000;
    while ((await sim.stats()).connections < 1 && Date.now() < deadline) await Bun.sleep(20);
    const pid = k.proc.pid;
    const cpu0 = procSample(pid)?.cpuS ?? 0;
    const threads0 = threadCpu(pid);
    let peakRss = 0;
    let rssAt60: number | undefined;
    let memAt60: Record<string, number | null> | undefined;
    // RSS every 5 s from the market's resume (MB), so a peak can be placed: ingest, catch-up or idle.
    const rssEvery5s: number[] = [];
    // Every sample from 30 s to 60 s: one instant at 60 s can land on a compaction pass or a GC.
    const rss30to60: number[] = [];
    let lagP99 = 0;
    // K2's lag histogram from the market's resume to its pause: lag-windows.ts.
    const lagReadings: LagReading[] = [];
    let marketOn = false;
    const readLag = (text: string, atMs: number) => {
      const h = histogram(text, "nodejs_eventloop_lag_seconds");
      if (h) lagReadings.push({ atMs, cum: h.cum });
    };
    const scrape = () =>
      fetch(`${k.url}/metrics`)
        .then((r) => r.text())
        .catch(() => "");
    let worstLevel = 0;
    let lastMetrics = "";
    const t0 = Date.now();
    const sampler = setInterval(async () => {
      const s = procSample(pid);
      if (s) {
        peakRss = Math.max(peakRss, s.rssMb);
        const at = Date.now() - t0;
        if (at >= rssEvery5s.length * 5000) rssEvery5s.push(Math.round(s.rssMb));
        if (at >= 30_000 && at <= 60_000) rss30to60.push(s.rssMb);
        if (rssAt60 === undefined && Date.now() - t0 >= 60_000) rssAt60 = s.rssMb;
      }
      const sentAt = Date.now();
      const m = await scrape();
      if (!m) return;
      if (marketOn) readLag(m, sentAt);
      lastMetrics = m;
      if (memAt60 === undefined && rssAt60 !== undefined) memAt60 = memoryBreakdown(pid, m);
      const p99 = metric(m, "nodejs_eventloop_lag_p99_seconds");
      if (Number.isFinite(p99)) lagP99 = Math.max(lagP99, p99 * 1000);
      const level = metric(m, "k2_degradation_level");
      if (Number.isFinite(level)) worstLevel = Math.max(worstLevel, level);
    }, 1000);
    const resumeAt = Date.now();
    readLag(await scrape(), resumeAt);
    marketOn = true;
    await sim.pause(false);
    await Bun.sleep(SECONDS * 1000);
    await sim.pause(true);
    marketOn = false;
    const pauseAt = Date.now();
    readLag(await scrape(), pauseAt);
    const st = await sim.stats();
    const gt = await sim.groundTruth();
    let want = 0;
    for (const t of tables) for (const s of SYMBOLS) want += rangeCount(truthRanges(gt, t, s));
    const end = Date.now() + CATCH_UP_LIMIT_MS;
    let visibleAt = 0;
    let reportedAt = Date.now();
    while (Date.now() < end) {
      const seen = await visibleRows(k.dataDir, tables);
      if (seen >= want) {
        visibleAt = Date.now();
        break;
      }
      if (Date.now() - reportedAt >= 10_000) {
        reportedAt = Date.now();
        console.error(`catching up: ${seen} of ${want} rows visible`);
      }
      await Bun.sleep(200);
    }
    clearInterval(sampler);
    const cpuS = (procSample(pid)?.cpuS ?? cpu0) - cpu0;
    const threads = threadShares(threads0, threadCpu(pid));
    // K2 stops first: its compaction (still merging the run's small files) would change the files
    // under the independent reader.
    const stopped = await k.stop();
    const check = await compareStored(k.dataDir, gt, SYMBOLS, tables);
    const elapsedS = ((visibleAt || Date.now()) - t0) / 1000;
    const perTable: Record<string, TableCheck & { rows_per_s: number }> = {};
    for (const [t, c] of Object.entries(check))
      perTable[t] = { ...c, rows_per_s: Math.round(c.truth / elapsedS) };
    return {
      streams: streams.join(","),
      caught_up: visibleAt > 0,
      rows: want,
      rows_per_s: Math.round(want / elapsedS),
      frames_sent: st.framesSent,
      catch_up_s: Number((elapsedS - SECONDS).toFixed(1)),
      tables: perTable,
      lag_p99_ms: Number(lagP99.toFixed(1)),
      // Only readings asked for from the resume to the pause: one the sampler sent just before
      // the resume can land after it, and would start a window before the run.
      lag_run_windows:
        lagWindows(
          LAG_BUCKETS_S,
          lagReadings.filter((r) => r.atMs >= resumeAt && r.atMs <= pauseAt).sort((a, b) => a.atMs - b.atMs),
        ) ?? null,
      peak_rss_mb: Math.round(peakRss),
      rss_at_60s_mb: rssAt60 === undefined ? null : Math.round(rssAt60),
      memory_at_60s_mb: memAt60 ?? null,
      rss_30_to_60s_mb: spread(rss30to60),
      rss_every_5s_mb: rssEvery5s,
      k2_env: K2_ENV,
      cpu_cores: Number((cpuS / elapsedS).toFixed(2)),
      // CPU time per row: what the path costs, less sensitive than rows/s to a busy shared machine.
      cpu_us_per_row: Number(((cpuS * 1e6) / want).toFixed(2)),
      cpu_percent_by_thread: threads,
      // At degradation CIRCUIT_BREAK (lag p99 ≥ 1 s) K2 sheds rows into gaps for REST repair;
      // more than the simulator's REST history holds can never come back (lost).
      worst_degradation_level: worstLevel,
      rows_shed: metric(lastMetrics, "k2_rows_shed_total"),
      gap_ids_pending: metric(lastMetrics, 'k2_gap_ids{state="pending"}'),
      ring_refused: metric(lastMetrics, "k2_ring_refused_total"),
      socket_pauses: metric(lastMetrics, "k2_backpressure_pauses_total"),
      reconnects: metric(lastMetrics, "k2_reconnects_total"),
      sim_ticks_paced: st.ticksPaced,
      k2_exit: stopped.code,
    };
  } finally {
    if (argv.includes("--logs"))
      console.error(
        k
          .logs()
          .split("\n")
          .filter((l) => /"level":(40|50|60)/.test(l))
          .slice(0, 40)
          .join("\n"),
      );
    await k.stop();
    k.cleanup();
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const ci = argv.indexOf("--client");
  if (ci >= 0) return bareClient(argv[ci + 1]!);
  const pi = argv.indexOf("--phases");
  const phases = (pi >= 0 ? argv[pi + 1]! : "bare,k2,all3").split(",");
  const result: Record<string, unknown> = { seconds: SECONDS, symbols: SYMBOL_COUNT };
  const b = phases.includes("bare") ? await bare() : undefined;
  const k = phases.includes("k2") ? await k2Phase(["trade"]) : undefined;
  const a = phases.includes("all3") ? await k2Phase(["trade", "aggTrade", "bookTicker"]) : undefined;
  if (b) result.bare = b;
  if (k) result.k2 = k;
  if (b && k) {
    result.ratio_k2_to_bare = Number((k.rows_per_s / b.frames_per_s).toFixed(3));
    // The same comparison in CPU time per message (bare client's cost / K2's cost).
    result.cpu_ratio_k2_to_bare = Number((b.cpu_us_per_frame / k.cpu_us_per_row).toFixed(3));
  }
  if (a) result.all3 = a;
  if (argv.includes("--json")) return void console.log(JSON.stringify(result));
  console.log(JSON.stringify(result, null, 2));
}

await main();
