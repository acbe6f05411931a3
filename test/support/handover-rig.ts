/**
 * What hand-over tests share: one simulator process both K2 connect to (paused until the first
 * K2 is connected, every bookTicker update id recorded), a fixed port, K2 processes started
 * without waiting (a newcomer serves only once it took over, or never), and a client on fresh
 * connections that records every failure.
 */
import { expect } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newestId, simEnv, waitUntil } from "./bounded-run.ts";
import { type K2Process, ROOT, type SpawnedK2, spawnK2, startK2 } from "./k2-process.ts";
import { type SimProcess, startSimProcess } from "./sim-process.ts";

export const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

export interface Rig {
  readonly sim: SimProcess;
  readonly symbols: readonly string[];
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly env: Record<string, string>;
  /** Start a K2 and wait until it serves. */
  start(extra?: Record<string, string>): Promise<K2Process>;
  /** Start a K2 without waiting (from `root`, another tree, if given); output collected. */
  spawn(extra?: Record<string, string>, root?: string): SpawnedK2;
  close(): Promise<void>;
}

function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export interface RigOptions {
  /** Trades per second per symbol. */
  readonly rate?: number;
  readonly symbols?: readonly string[];
}

export async function startRig(o: RigOptions = {}): Promise<Rig> {
  const symbols = o.symbols ?? SYMBOLS;
  const sim = await startSimProcess([
    "--symbols",
    symbols.join(","),
    "--rate",
    String(o.rate ?? 200),
    "--record-quote-ids",
    "--faults",
    '{"paused":true}',
  ]);
  const dir = mkdtempSync(join(tmpdir(), "k2-handover-"));
  const port = freePort();
  const env = simEnv(sim, symbols, { K2_DATA_DIR: dir, K2_PORT: String(port) });
  const procs: { kill(sig?: number | NodeJS.Signals): void; exitCode: number | null }[] = [];
  const cleanups: (() => void)[] = [];
  return {
    sim,
    symbols,
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    env,
    async start(extra = {}) {
      const p = await startK2({ ...env, ...extra }, 20_000);
      cleanups.push(() => p.cleanup());
      return p;
    },
    spawn(extra = {}, root = ROOT) {
      const k = spawnK2({ ...env, ...extra }, root);
      procs.push(k.proc);
      return k;
    },
    async close() {
      for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
      for (const c of cleanups.splice(0)) c();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start the market once `n` K2 sessions are connected to it. */
export async function resumeWhen(rig: Rig, n = 1): Promise<void> {
  await waitUntil(async () => (await rig.sim.stats()).connections >= n, 10_000, `${n} session(s)`);
  await rig.sim.pause(false);
}

/** Requests on fresh connections every `everyMs` until stopped; every failure is kept. */
export function httpClient(url: string, everyMs: number, symbols: readonly string[] = SYMBOLS) {
  const failures: string[] = [];
  let sent = 0;
  let stop = false;
  const paths = [
    "/health/ready",
    `/v1/trades?symbol=${symbols[0]}&limit=5&order=desc`,
    `/v1/quotes?symbol=${symbols.at(-1)}&limit=5&order=desc`,
  ];
  const done = (async () => {
    for (let i = 0; !stop && i < 1_000_000; i++) {
      const path = paths[i % paths.length]!;
      sent++;
      try {
        const r = await fetch(`${url}${path}`, { headers: { connection: "close" } });
        const body = await r.text();
        if (r.status !== 200) failures.push(`${path}: HTTP ${r.status} ${body.slice(0, 300)}`);
      } catch (e) {
        failures.push(`${path}: ${(e as Error).message}`);
      }
      await Bun.sleep(everyMs);
    }
  })();
  return {
    failures,
    sent: () => sent,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/**
 * No request of the client failed. One caveat is the host's, not K2's: with
 * net.ipv4.tcp_migrate_req=0 the kernel resets a connection it had queued on blue's listener as
 * blue closes it (docs/RUNBOOK.md, "Hand-over"); .ci/run sets it to 1 where it may. Only where it
 * is not 1 may a single connection reset be among the failures.
 */
export function expectNoRefusals(failures: readonly string[]): void {
  if (migratesQueuedConnections()) {
    expect(failures).toEqual([]);
    return;
  }
  expect(failures.length).toBeLessThanOrEqual(1);
  for (const f of failures) expect(f).toMatch(/ECONNRESET|reset/i);
}

function migratesQueuedConnections(): boolean {
  try {
    return readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim() === "1";
  } catch {
    return false;
  }
}

/** Pause the market and wait until the K2 at `url` serves the last trade of every symbol. */
export async function pauseAndDrain(rig: Rig, url: string): Promise<void> {
  await rig.sim.pause(true);
  const gt = await rig.sim.groundTruth();
  for (const sym of rig.symbols) {
    const last = gt.symbols[sym]!.tradeIds.at(-1)![1];
    await waitUntil(
      async () => (await newestId(url, "trades", sym)) === last,
      15_000,
      `${sym} trade #${last}`,
    );
  }
  await waitUntil(
    async () => {
      const r = (await (await fetch(`${url}/v1/gaps`)).json()) as { data: { state: string }[] };
      return r.data.every((g) => g.state !== "pending" && g.state !== "repairing");
    },
    15_000,
    "gap repair to settle",
  );
}
