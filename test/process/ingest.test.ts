/**
 * The whole process against the simulator (a separate server on loopback): frames in, exactly-once
 * Parquet out, read back by DuckDB; then a crash loop of SIGKILLs at random moments.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";
import { deliverableIds } from "../support/source-harness.ts";
import { storedTradeIds } from "../support/stored.ts";

let sim: Simulator | undefined;
let k2: K2Process | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  k2?.cleanup();
  k2 = undefined;
  for (const c of cleanups.splice(0)) c();
  await sim?.stop();
  sim = undefined;
});

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

function envFor(s: Simulator, dataDir?: string): Record<string, string> {
  return {
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: s.wsUrl,
    K2_BINANCE_REST_URL: s.restUrl,
    K2_SYMBOLS: SYMBOLS.join(","),
    K2_FLUSH_INTERVAL_MS: "300",
    K2_CONNECT_MIN_INTERVAL_MS: "0",
    K2_RECONNECT_BASE_MS: "50",
    K2_RECONNECT_MAX_MS: "500",
    K2_WAL_FSYNC_MS: "20",
    K2_QUERY_MEMORY_MB: "128",
    ...(dataDir ? { K2_DATA_DIR: dataDir } : {}),
  };
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

async function expectExactlyOnce(dataDir: string, s: Simulator) {
  const stored = await storedTradeIds(dataDir);
  for (const sym of SYMBOLS) {
    const got = stored.get(sym);
    expect(got).toBeDefined();
    expect(got!.rows).toBe(got!.distinct); // no duplicates
    const first = got!.ids[0]!;
    const last = got!.ids[got!.ids.length - 1]!;
    expect(got!.ids).toEqual(deliverableIds(s, sym, first, last)); // no loss
  }
  return stored;
}

describe("K2 process: simulator → Parquet, exactly once", () => {
  test("ingests, serves the rows over /v1, stores each trade once, drains on SIGTERM", async () => {
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 200, seed: 3 });
    const s = sim;
    k2 = await startK2(envFor(s));
    const url = k2.url;
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 8000, "ready");
    await waitFor(
      async () => {
        const r = (await (await fetch(`${url}/v1/trades?symbol=BTCUSDT&limit=1000`)).json()) as {
          data: unknown[];
        };
        return r.data.length >= 300;
      },
      10_000,
      "300 BTCUSDT trades over the API",
    );
    const { code } = await k2.stop();
    expect(code).toBe(0);
    const stored = await expectExactlyOnce(k2.dataDir, s);
    expect(stored.get("BTCUSDT")!.ids.length).toBeGreaterThanOrEqual(300);
  }, 30_000);

  test("SIGKILL at 20 random moments: after restarts the stored ids equal the ground truth", async () => {
    sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 100, seed: 5 });
    const s = sim;
    let rnd = 12345;
    const next = () => {
      rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
      return rnd / 2 ** 31;
    };
    const first = await startK2(envFor(s));
    const dataDir = first.dataDir;
    cleanups.push(() => first.cleanup());
    await first.stop("SIGKILL");
    for (let i = 0; i < 20; i++) {
      const p = await startK2(envFor(s, dataDir));
      await Bun.sleep(100 + Math.floor(next() * 700)); // mid-batch, mid-WAL, mid-rename: anywhere
      await p.stop("SIGKILL");
    }
    k2 = await startK2(envFor(s, dataDir));
    const url = k2.url;
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 8000, "ready");
    // Let gap repair of the downtimes finish, then stop cleanly.
    await waitFor(
      async () => {
        const gaps = (await (await fetch(`${url}/v1/gaps?symbol=BTCUSDT`)).json()) as {
          data: { state: string }[];
        };
        return gaps.data.every((g) => g.state !== "pending" && g.state !== "repairing");
      },
      15_000,
      "gap repair to settle",
    );
    await Bun.sleep(500);
    expect((await k2.stop()).code).toBe(0);
    const stored = await expectExactlyOnce(dataDir, s);
    // The runs covered most of the simulator's history, not a sliver of it.
    const truth = s.groundTruth().symbols.BTCUSDT!;
    expect(stored.get("BTCUSDT")!.ids.length).toBeGreaterThan(truth.tradeCount * 0.8);
  }, 120_000);
});
