/**
 * HTTP throughput as a ratio: a real K2 (child process, embedded simulator at a light 500
 * trades/s, rate limiter raised out of the way) against a plain Bun.serve (another child process)
 * that answers every request with the bytes K2 answered first: the same body, content-type and
 * other response headers. autocannon runs in this process, 10 connections, loopback; each
 * target's CPU (from /proc) is reported next to its req/s, because autocannon itself takes a
 * whole core of this 2-core machine. Rounds alternate plain / K2 so drift on a shared machine
 * hits both. Used by perf-gate.ts; runnable alone:
 *   bun run native-bench/api-throughput.ts [--seconds 3] [--rounds 3] [--gzip]
 */
import autocannon from "autocannon";
import { startK2 } from "../test/support/k2-process.ts";
import { numberFlag } from "./args.ts";
import { cpuPercentOver } from "./cpu.ts";

/** The newest-first page: served from the hot window, the common query of a live system. */
export const TRADES_DESC_PATH = "/v1/trades?symbol=BTCUSDT&limit=100&order=desc";
export const TRADES_DESC_KEY = "http: /v1/trades?limit=100&order=desc / plain Bun.serve";
export const LIVE_KEY = "http: /health/live / plain Bun.serve";

/** Headers the plain server must not copy: Bun writes its own date and length. */
const NOT_COPIED = new Set(["date", "content-length", "transfer-encoding", "connection", "keep-alive"]);

interface Load {
  readonly rps: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly cpuPct: number;
}

async function load(
  url: string,
  pid: number,
  seconds: number,
  headers: Record<string, string>,
): Promise<Load> {
  const { result, pct } = await cpuPercentOver(pid, () =>
    autocannon({ url, connections: 10, duration: seconds, headers }),
  );
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, cpuPct: pct };
}

/** Sum of a counter's samples in K2's /metrics text. */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name} `)) n += Number(line.split(" ")[1]);
  return n;
}

/** A child process serving `body` with `headers` on every request; resolves to its port. */
async function plainServer(body: Uint8Array, headers: Record<string, string>) {
  const src = `const b=Buffer.from(${JSON.stringify(Buffer.from(body).toString("base64"))},"base64");const h=${JSON.stringify(headers)};const s=Bun.serve({port:0,hostname:"127.0.0.1",fetch:()=>new Response(b,{headers:h})});console.log(s.port)`;
  const proc = Bun.spawn([process.execPath, "-e", src], { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
  reader.releaseLock();
  if (!(port > 0)) {
    proc.kill();
    throw new Error("plain Bun.serve did not start");
  }
  return { proc, port };
}

/** CPU µs per request: steadier than req/s when other work shares the cores. */
const fmt = (name: string, l: Load) =>
  `  ${name.padEnd(34)} ${l.rps.toFixed(0).padStart(7)} req/s  p99 ${String(l.p99).padStart(3)} ms  CPU ${l.cpuPct.toFixed(0).padStart(3)} % (${((l.cpuPct * 1e4) / l.rps).toFixed(0)} µs/req)${l.non2xx ? `  non-2xx ${l.non2xx}` : ""}`;

export async function apiRatios(opts: {
  readonly seconds: number;
  readonly rounds: number;
  readonly gzip?: boolean;
}): Promise<Record<string, number>> {
  const k2 = await startK2({
    K2_SYMBOLS: "BTCUSDT",
    K2_SIM_RATE: "500",
    K2_RATE_LIMIT_PER_S: "1000000",
    K2_RATE_LIMIT_BURST: "1000000",
  });
  const reqHeaders: Record<string, string> = opts.gzip ? { "accept-encoding": "gzip" } : {};
  try {
    await Bun.sleep(3000); // a few thousand trades: more than one page in the hot window
    const sample = await fetch(`${k2.url}${TRADES_DESC_PATH}`, { headers: reqHeaders, decompress: false });
    if (sample.status !== 200) throw new Error(`${TRADES_DESC_PATH}: HTTP ${sample.status}`);
    const body = new Uint8Array(await sample.arrayBuffer());
    const headers: Record<string, string> = {};
    sample.headers.forEach((v, k) => {
      if (!NOT_COPIED.has(k)) headers[k] = v;
    });
    const plain = await plainServer(body, headers);
    try {
      const rps = { plain: [] as number[], trades: [] as number[], live: [] as number[] };
      console.log(
        `\nHTTP, 10 connections, ${opts.seconds} s per load, ${opts.rounds} round(s); ${TRADES_DESC_PATH}: ${body.length} B${headers["content-encoding"] ? ` (${headers["content-encoding"]})` : ""}`,
      );
      // What K2 spends with no request at all (ingesting from its simulator), to read the loads by.
      const idle = await cpuPercentOver(k2.proc.pid, () => Bun.sleep(1000));
      console.log(`  K2 idle (ingesting 500 trades/s): CPU ${idle.pct.toFixed(0)} %`);
      for (let round = 0; round < opts.rounds; round++) {
        const base = await load(`http://127.0.0.1:${plain.port}/`, plain.proc.pid, opts.seconds, reqHeaders);
        const hits0 = await counter(k2.url, "k2_api_page_cache_hits_total");
        const misses0 = await counter(k2.url, "k2_api_page_cache_misses_total");
        const trades = await load(`${k2.url}${TRADES_DESC_PATH}`, k2.proc.pid, opts.seconds, reqHeaders);
        const hits = (await counter(k2.url, "k2_api_page_cache_hits_total")) - hits0;
        const misses = (await counter(k2.url, "k2_api_page_cache_misses_total")) - misses0;
        const live = await load(`${k2.url}/health/live`, k2.proc.pid, opts.seconds, {});
        console.log(`round ${round + 1}`);
        console.log(fmt("plain Bun.serve (same bytes)", base));
        console.log(fmt("K2 /v1/trades limit=100 desc", trades));
        console.log(fmt("K2 /health/live", live));
        console.log(
          `  ratio trades/plain ${(trades.rps / base.rps).toFixed(2)}; page cache ${hits} hits, ${misses} misses`,
        );
        if (trades.non2xx > 0) throw new Error(`${trades.non2xx} non-2xx answers from ${TRADES_DESC_PATH}`);
        rps.plain.push(base.rps);
        rps.trades.push(trades.rps);
        rps.live.push(live.rps);
      }
      // Each target's best round, then the ratio: a round disturbed by other work on a shared
      // machine decides nothing (a slow baseline round cannot inflate the ratio), a real slowdown
      // (every round slow) still shows.
      const best = (xs: readonly number[]) => Math.max(...xs);
      const plainBest = best(rps.plain);
      return {
        [TRADES_DESC_KEY]: best(rps.trades) / plainBest,
        [LIVE_KEY]: best(rps.live) / plainBest,
      };
    } finally {
      plain.proc.kill();
    }
  } finally {
    await k2.stop();
    k2.cleanup();
  }
}

if (import.meta.main) {
  const argv = Bun.argv.slice(2);
  if (argv.includes("--help")) {
    console.log("bun run native-bench/api-throughput.ts [--seconds 3] [--rounds 3] [--gzip]");
    process.exit(0);
  }
  const r = await apiRatios({
    seconds: numberFlag(argv, "--seconds", 3, { max: 60 }),
    rounds: numberFlag(argv, "--rounds", 3, { integer: true, max: 10 }),
    gzip: argv.includes("--gzip"),
  });
  for (const [k, v] of Object.entries(r)) console.log(`${k}: ${v.toFixed(2)} (best round / best round)`);
}
