/**
 * Simulator (in this process) + a real K2 process (a child: `bun run src/main.ts`) wired to it over
 * loopback, plus the cleanup registry that guarantees no child, temp dir or mount outlives the
 * harness, whether it ends normally, throws, or gets Ctrl-C.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SimOptionsInput, type Simulator, startSimulator } from "../../src/sim/index.ts";
import { type K2Process, startK2 } from "../../test/support/k2-process.ts";
import { type Metrics, scrape } from "./metrics.ts";

/** Two API keys, so a query flood (its own token bucket) cannot starve the harness's own probes. */
export const HARNESS_KEY = "k2-harness-key-0000000001";
export const FLOOD_KEY = "k2-flood-key-000000000002";

const cleanups: (() => unknown)[] = [];
/** Register an undo action; returns a function that runs it once and unregisters it. */
export function onCleanup(fn: () => unknown): () => Promise<void> {
  cleanups.push(fn);
  return async () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
    await fn();
  };
}

/** Newest first, each once, errors swallowed: cleanup must never stop half-way. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
}

let installed = false;
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping K2, the simulator and removing temp files`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
}

export interface StackOptions {
  symbols: string[];
  sim: SimOptionsInput;
  /** Extra K2_* settings over the defaults below. */
  env?: Record<string, string>;
  /** Reuse a data dir (restarts, tmpfs); otherwise a temp dir removed at cleanup. */
  dataDir?: string;
}

export interface Stack {
  readonly sim: Simulator;
  readonly symbols: string[];
  readonly dataDir: string;
  readonly env: Record<string, string>;
  k2: K2Process;
  /** GET a K2 path with the harness API key; never throws (network error → status 0). */
  get(path: string): Promise<{ status: number; ms: number; body: string }>;
  metrics(): Promise<Metrics>;
  ready(): Promise<number>;
  /** Start a new K2 on the same data dir (after a stop or a SIGKILL). */
  restartK2(): Promise<void>;
  /** K2 exit code after SIGTERM (null: had to be SIGKILLed after 15 s). */
  stopK2(): Promise<number | null>;
  /** Stop everything, remove the temp data dir. Idempotent. */
  close(): Promise<void>;
}

export function k2EnvFor(sim: Simulator, symbols: string[], extra: Record<string, string> = {}) {
  return {
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: sim.wsUrl,
    K2_BINANCE_REST_URL: sim.restUrl,
    K2_SYMBOLS: symbols.join(","),
    K2_HOST: "127.0.0.1",
    K2_API_KEYS: `${HARNESS_KEY},${FLOOD_KEY}`,
    K2_LOG_LEVEL: "info",
    ...extra,
  };
}

export async function startStack(o: StackOptions): Promise<Stack> {
  // Paused until K2 is connected: K2's first trade is the first generated, so the completeness
  // proof owes every id of the run (soak/lib/completeness.ts).
  const sim = await startSimulator({
    symbols: o.symbols,
    ...o.sim,
    faults: { paused: true, ...o.sim?.faults },
  });
  const undoSim = onCleanup(() => sim.stop());
  const ownDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), "k2-harness-"));
  const undoDir = onCleanup(() => {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const env = { ...k2EnvFor(sim, o.symbols, o.env), K2_DATA_DIR: dataDir };
  let undoK2: (() => Promise<void>) | undefined;
  const launch = async () => {
    const p = await startK2(env, 30_000);
    undoK2 = onCleanup(() => p.cleanup());
    return p;
  };
  const stack: Stack = {
    sim,
    symbols: o.symbols,
    dataDir,
    env,
    k2: await launch(),
    async get(path) {
      const t0 = performance.now();
      try {
        const r = await fetch(`${stack.k2.url}${path}`, {
          headers: { "X-API-Key": HARNESS_KEY },
          signal: AbortSignal.timeout(10_000),
        });
        const body = await r.text();
        return { status: r.status, ms: performance.now() - t0, body };
      } catch {
        return { status: 0, ms: performance.now() - t0, body: "" };
      }
    },
    metrics: () => scrape(stack.k2.url),
    ready: async () => (await stack.get("/health/ready")).status,
    async restartK2() {
      await undoK2?.();
      stack.k2 = await launch();
    },
    async stopK2() {
      const { code } = await stack.k2.stop("SIGTERM");
      return code;
    },
    async close() {
      await undoK2?.();
      await undoSim();
      await undoDir();
    },
  };
  if (o.sim.faults?.paused !== true) {
    const ms = await waitUntil(() => sim.stats().connections >= 1, 30_000, 20);
    if (ms === null) throw new Error("K2 opened no WebSocket session to the simulator within 30 s");
    sim.faults.pause(false);
  }
  return stack;
}

/** Poll `cond` every `everyMs` until true or `timeoutMs`; returns the elapsed ms or null on timeout. */
export async function waitUntil(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<number | null> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return null;
    await Bun.sleep(everyMs);
  }
}
