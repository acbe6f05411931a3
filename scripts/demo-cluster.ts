#!/usr/bin/env bun
/**
 * `make demo-cluster`: the scale-out deployment on loopback (docs/SCALING.md) — 3 NATS JetStream
 * nodes, 1 simulator, 2 recorders, 1 writer, 1 query node — until Ctrl-C, which stops each of
 * them by pid. Files go to ./data-cluster (never ./data: a demo's simulated market must not mix
 * with real recordings). The query node answers on K2_PORT (default 8000).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { simEnv } from "../test/support/bounded-run.ts";
import { type SpawnedK2, spawnK2 } from "../test/support/k2-process.ts";
import { startNatsCluster } from "../test/support/nats-cluster.ts";
import { startSimProcess } from "../test/support/sim-process.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
const root = resolve(process.env.DEMO_DIR ?? "data-cluster");
const port = process.env.K2_PORT ?? "8000";
const say = (s: string) => console.log(`demo-cluster: ${s}`);

const nats = await startNatsCluster();
say(`3 NATS JetStream nodes: ${nats.urls.join(" ")}`);
const sim = await startSimProcess(["--symbols", SYMBOLS.join(","), "--rate", "50", "--record-quote-ids"]);
say(`simulator: ${sim.wsUrl}`);
const env = simEnv(sim, SYMBOLS, { K2_NATS_URL: nats.urls.join(","), K2_LOG_LEVEL: "warn" });
const files = join(root, "files");
const procs: [string, SpawnedK2, string][] = [];
/** A free loopback port for a role's health and metrics (logs stay at warn: no URL line to read). */
function freePort(): string {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return String(p);
}
const start = (name: string, extra: Record<string, string>) => {
  mkdirSync(extra.K2_DATA_DIR ?? root, { recursive: true });
  const p = extra.K2_PORT ?? freePort();
  procs.push([name, spawnK2({ ...env, K2_PORT: p, ...extra }), `http://127.0.0.1:${p}`]);
};
start("writer", { K2_ROLE: "writer", K2_DATA_DIR: files });
start("recorder-1", { K2_ROLE: "recorder", K2_DATA_DIR: join(root, "recorder-1") });
start("recorder-2", { K2_ROLE: "recorder", K2_DATA_DIR: join(root, "recorder-2") });
start("query", { K2_ROLE: "query", K2_DATA_DIR: files, K2_PORT: port });

let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const [, k] of procs) if (k.proc.exitCode === null) k.proc.kill("SIGTERM");
  await Promise.race([Promise.all(procs.map(([, k]) => k.proc.exited)), Bun.sleep(15_000)]);
  for (const [, k] of procs) if (k.proc.exitCode === null) k.proc.kill("SIGKILL");
  await sim.stop();
  await nats.stopAll();
  say(`stopped (files stay in ${root})`);
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

// Each process answers /health/live once serving; one that exits early ends the demo with its output.
const live = (url: string) =>
  fetch(`${url}/health/live`).then(
    (r) => r.ok,
    () => false,
  );
const deadline = Date.now() + 30_000;
for (const [name, k, url] of procs) {
  for (;;) {
    if (await live(url)) {
      say(`${name.padEnd(10)} pid ${k.proc.pid} ${url}  (/health/ready, /metrics)`);
      break;
    }
    if (k.proc.exitCode !== null || Date.now() > deadline) {
      console.error(`demo-cluster: ${name} did not start:\n${k.logs()}${k.stderr()}`);
      await stopAll(1);
    }
    await Bun.sleep(50);
  }
}
say(`try: curl 'http://127.0.0.1:${port}/v1/trades?symbol=BTCUSDT&limit=5&order=desc'`);
say(`     curl http://127.0.0.1:${port}/v1/symbols     (Ctrl-C stops everything)`);
for (;;) {
  await Bun.sleep(1000);
  for (const [name, k] of procs)
    if (!stopping && k.proc.exitCode !== null) {
      console.error(`demo-cluster: ${name} exited (${k.proc.exitCode}):\n${k.stderr().slice(-2000)}`);
      await stopAll(1);
    }
}
