/**
 * What cluster tests share: a private 3-node JetStream cluster, one simulator process every
 * recorder connects to (paused until they are connected; every bookTicker update id recorded),
 * K2 processes by role, each with its own temp folder (writers share theirs), all stopped by pid.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GroundTruth } from "../../src/sim/index.ts";
import { simEnv, type Truth, type TruthTable, truthOf, waitUntil } from "./bounded-run.ts";
import { type K2Process, startK2 } from "./k2-process.ts";
import { type NatsCluster, startNatsCluster } from "./nats-cluster.ts";
import { type SimProcess, startSimProcess } from "./sim-process.ts";
import { storedTradeIds } from "./stored.ts";

export const ALL_TABLES: readonly TruthTable[] = ["trades", "agg_trades", "quotes"];

export interface ClusterRig {
  readonly nats: NatsCluster;
  readonly sim: SimProcess;
  readonly symbols: readonly string[];
  /** The writers' shared folder. */
  readonly dataDir: string;
  /** What every K2 of the rig is started with (the simulator, the cluster, short intervals). */
  readonly env: Readonly<Record<string, string>>;
  recorder(extra?: Record<string, string>): Promise<K2Process>;
  writer(extra?: Record<string, string>): Promise<K2Process>;
  query(extra?: Record<string, string>): Promise<K2Process>;
  /** Pause the market; resolves with its whole truth once the writers stored all of it (bounded). */
  settle(timeoutMs?: number): Promise<{ gt: GroundTruth; truth: Truth }>;
  close(): Promise<void>;
}

export async function startClusterRig(
  symbols: readonly string[],
  rate = 100,
  /** More simulator flags (e.g. an archive: --start-time-ms, --archive-days). */
  simArgs: readonly string[] = [],
): Promise<ClusterRig> {
  const nats = await startNatsCluster();
  const sim = await startSimProcess([
    "--symbols",
    symbols.join(","),
    "--rate",
    String(rate),
    "--record-quote-ids",
    "--faults",
    '{"paused":true}',
    ...simArgs,
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), "k2-cluster-"));
  const base = simEnv(sim, symbols, {
    K2_NATS_URL: nats.urls.join(","),
    K2_NATS_STREAM: "K2TEST",
    K2_NATS_REPLICAS: "3",
    K2_FLUSH_INTERVAL_MS: "250",
    K2_NATS_ACK_WAIT_MS: "2000",
  });
  const procs: K2Process[] = [];
  const start = async (env: Record<string, string>) => {
    const p = await startK2({ ...base, ...env }, 20_000);
    procs.push(p);
    return p;
  };
  return {
    nats,
    sim,
    symbols,
    dataDir,
    env: base,
    recorder: (extra = {}) => start({ K2_ROLE: "recorder", ...extra }),
    writer: (extra = {}) => start({ K2_ROLE: "writer", K2_DATA_DIR: dataDir, ...extra }),
    query: (extra = {}) => start({ K2_ROLE: "query", K2_DATA_DIR: dataDir, ...extra }),
    async settle(timeoutMs = 30_000) {
      await sim.pause(true);
      const gt = await sim.groundTruth();
      const truth = truthOf(gt, symbols, ALL_TABLES);
      await waitUntil(
        async () => {
          for (const table of ALL_TABLES) {
            // A table's folder can exist before its first file does: not yet, rather than an error.
            const stored = await storedTradeIds(dataDir, table).catch(() => new Map());
            for (const sym of symbols) {
              const want = truth.get(`${table}:${sym}`)!;
              const have = stored.get(sym);
              if (!have || have.distinct < want.length) return false;
            }
          }
          return true;
        },
        timeoutMs,
        "the writers store the whole truth",
      );
      return { gt, truth };
    },
    async close() {
      for (const p of procs) p.cleanup();
      await sim.stop();
      await nats.stopAll();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One line for the test's output once expectStored passed: rows per table compared with the
 * truth (every id found once, so lost and duplicated are 0 by then).
 */
export function truthLine(name: string, truth: Truth): string {
  const per = ALL_TABLES.map((t) => {
    let n = 0;
    for (const [k, ids] of truth) if (k.startsWith(`${t}:`)) n += ids.length;
    return `${t} ${n} (lost 0, dup 0)`;
  });
  return `${name}: ${per.join(", ")}`;
}

/** Resume the market once `n` WebSocket sessions (recorders) are connected. */
export async function resumeWhenRecording(rig: ClusterRig, n: number): Promise<void> {
  await waitUntil(async () => (await rig.sim.stats()).connections >= n, 10_000, `${n} recorder session(s)`);
  await rig.sim.pause(false);
}
