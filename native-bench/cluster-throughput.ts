/**
 * The scale-out path against the single process, on the same feed, in one run (issue 14 item 7):
 *   single:  simulator → one K2 (K2_ROLE=all) → visible Parquet
 *   cluster: simulator → 2 recorders → 3-node JetStream (R3) → 1 writer → visible Parquet
 * Each phase gets a fresh simulator process with the same seed and rate (trade, aggTrade and
 * bookTicker streams), runs `--seconds`, pauses the market and waits until every row of its
 * ground truth is in a file. Reported per phase: rows/s stored (truth rows over the time from the
 * market's start to the last row visible), lost and duplicated per table, latency from exchange
 * event to visible file (file mtime − event time; p50/p99), and each process's CPU and peak RSS.
 *   bun run native-bench/cluster-throughput.ts [--seconds 20] [--symbols 10] [--rate 1400] [--json]
 *     [--only single|cluster] [--logs (each K2's warnings on stderr)]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { simEnv, type Truth, truthOf } from "../test/support/bounded-run.ts";
import { ALL_TABLES } from "../test/support/cluster-rig.ts";
import { type K2Process, startK2 } from "../test/support/k2-process.ts";
import { startNatsCluster } from "../test/support/nats-cluster.ts";
import { startSimProcess } from "../test/support/sim-process.ts";
import { storedTradeIds } from "../test/support/stored.ts";
import { numberFlag } from "./args.ts";

const argv = Bun.argv.slice(2);
const SECONDS = numberFlag(argv, "--seconds", 20);
const SYMBOL_COUNT = numberFlag(argv, "--symbols", 10);
const RATE = numberFlag(argv, "--rate", 1400);
const CATCH_UP_LIMIT_MS = 120_000;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT"]
  .concat(Array.from({ length: 64 }, (_, i) => `SYM${i}USDT`))
  .slice(0, SYMBOL_COUNT);

/** CPU seconds (user + system) and RSS of a pid, from /proc; undefined once it is gone. */
function procSample(pid: number): { cpuS: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuS: ticks / 100, rssMb: Number(rss?.[1] ?? 0) / 1024 };
  } catch {
    return undefined;
  }
}

/** Watches processes: CPU seconds used between start() and stop(), peak RSS. */
function watch(named: Record<string, number>) {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const peak = new Map<string, number>();
  const tick = () => {
    for (const [name, pid] of Object.entries(named)) {
      const s = procSample(pid);
      if (!s) continue;
      if (!first.has(name)) first.set(name, s.cpuS);
      last.set(name, s.cpuS);
      peak.set(name, Math.max(peak.get(name) ?? 0, s.rssMb));
    }
  };
  tick();
  const timer = setInterval(tick, 500);
  return {
    stop(seconds: number) {
      tick();
      clearInterval(timer);
      const out: Record<string, { cpu: number; rss_mb: number }> = {};
      for (const name of Object.keys(named))
        out[name] = {
          cpu: Number((((last.get(name) ?? 0) - (first.get(name) ?? 0)) / seconds).toFixed(2)),
          rss_mb: Math.round(peak.get(name) ?? 0),
        };
      return out;
    },
  };
}

function rowsIn(t: Truth): number {
  let n = 0;
  for (const ids of t.values()) n += ids.length;
  return n;
}

/** Lost and duplicated ids per table, against the truth. */
async function compare(dir: string, truth: Truth) {
  const out: Record<string, { truth: number; lost: number; dup: number }> = {};
  for (const table of ALL_TABLES) {
    const stored = await storedTradeIds(dir, table).catch(() => new Map());
    let t = 0;
    let lost = 0;
    let dup = 0;
    for (const sym of SYMBOLS) {
      const want = truth.get(`${table}:${sym}`) ?? [];
      const have = stored.get(sym);
      const set = new Set<number>(have?.ids ?? []);
      t += want.length;
      for (const id of want) if (!set.has(id)) lost++;
      dup += (have?.rows ?? 0) - (have?.distinct ?? 0);
    }
    out[table] = { truth: t, lost, dup };
  }
  return out;
}

/** Exchange event → visible file, per row: the file's mtime minus the row's event time. */
async function latency(dir: string) {
  const mtimes = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".parquet")) mtimes.set(p, statSync(p).mtimeMs);
    }
  };
  for (const t of ALL_TABLES) if (statSync(join(dir, t), { throwIfNoEntry: false })) walk(join(dir, t));
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  const lat: number[] = [];
  try {
    for (const t of ALL_TABLES) {
      const r = await conn.runAndReadAll(
        `SELECT filename, epoch_us(event_time_us) AS event_time_us FROM read_parquet('${join(dir, t, "*", "*", "*.parquet")}', filename = true)`,
      );
      for (const row of r.getRowObjectsJS()) {
        const m = mtimes.get(String(row.filename));
        if (m !== undefined) lat.push(m - Number(row.event_time_us) / 1000);
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN);
  return { p50_ms: q(0.5), p99_ms: q(0.99) };
}

async function phase(mode: "single" | "cluster") {
  const sim = await startSimProcess([
    "--symbols",
    SYMBOLS.join(","),
    "--rate",
    String(RATE),
    "--seed",
    "7",
    "--record-quote-ids",
    "--faults",
    '{"paused":true}',
  ]);
  const nats = mode === "cluster" ? await startNatsCluster({ maxMemoryStore: "512MB" }) : undefined;
  const procs: K2Process[] = [];
  const named: Record<string, number> = { simulator: sim.proc.pid };
  let dataDir = "";
  try {
    const env = simEnv(sim, SYMBOLS, {
      ...(nats ? { K2_NATS_URL: nats.urls.join(","), K2_NATS_STREAM: "BENCH" } : {}),
    });
    if (mode === "single") {
      const k = await startK2(env, 30_000);
      procs.push(k);
      named.k2 = k.proc.pid;
      dataDir = k.dataDir;
    } else {
      const w = await startK2({ ...env, K2_ROLE: "writer" }, 30_000);
      procs.push(w);
      dataDir = w.dataDir;
      named.writer = w.proc.pid;
      for (const i of [1, 2]) {
        const r = await startK2({ ...env, K2_ROLE: "recorder" }, 30_000);
        procs.push(r);
        named[`recorder-${i}`] = r.proc.pid;
      }
      for (const [i, n] of nats!.names.entries()) named[`nats-${n}`] = nats!.pid(i)!;
    }
    const sessions = mode === "single" ? 1 : 2;
    const deadline = Date.now() + 15_000;
    while ((await sim.stats()).connections < sessions && Date.now() < deadline) await Bun.sleep(20);
    const w = watch(named);
    const t0 = performance.now();
    await sim.pause(false);
    await Bun.sleep(SECONDS * 1000);
    await sim.pause(true);
    const truth = truthOf(await sim.groundTruth(), SYMBOLS, ALL_TABLES);
    const want = rowsIn(truth);
    // Caught up when the files hold as many distinct rows as the truth (each table, each symbol).
    const caughtUp = async () => {
      let n = 0;
      for (const t of ALL_TABLES)
        for (const s of (await storedTradeIds(dataDir, t).catch(() => new Map())).values()) n += s.distinct;
      return n >= want;
    };
    const end = performance.now() + CATCH_UP_LIMIT_MS;
    while (!(await caughtUp()) && performance.now() < end) await Bun.sleep(250);
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu = w.stop(elapsedS);
    const perTable = await compare(dataDir, truth);
    return {
      mode,
      rows: want,
      feed_rows_per_s: Math.round(want / SECONDS),
      stored_rows_per_s: Math.round(want / elapsedS),
      catch_up_s: Number((elapsedS - SECONDS).toFixed(1)),
      tables: perTable,
      latency: await latency(dataDir),
      processes: cpu,
    };
  } finally {
    if (argv.includes("--logs"))
      for (const p of procs)
        console.error(
          p
            .logs()
            .split("\n")
            .filter((l) => /"level":(40|50|60)/.test(l))
            .slice(0, 40)
            .join("\n"),
        );
    for (const p of procs) {
      await p.stop();
      p.cleanup();
    }
    await sim.stop();
    await nats?.stopAll();
  }
}

const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : undefined;
const single = only === "cluster" ? undefined : await phase("single");
const cluster = only === "single" ? undefined : await phase("cluster");
const result = {
  seconds: SECONDS,
  symbols: SYMBOL_COUNT,
  rate_per_symbol: RATE,
  single,
  cluster,
  ratio_cluster_to_single:
    single && cluster ? Number((cluster.stored_rows_per_s / single.stored_rows_per_s).toFixed(2)) : undefined,
};
if (argv.includes("--json")) console.log(JSON.stringify(result));
else console.log(JSON.stringify(result, null, 2));
