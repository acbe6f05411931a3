/**
 * Backpressure in the whole process: 8-row files (each an fsync'd Parquet write) and a fast
 * simulator make the sink the bottleneck, so the ring fills. K2 must pause its sockets before the
 * ring refuses rows, resume them once the sink caught up (the trades sent meanwhile arrive only
 * then), and store every trade exactly once (DuckDB reads the files; the simulator's ground truth
 * says what was sent).
 *
 * The flood is bounded: the market stops 4000 trades after K2 pauses. Left running, each resume
 * would pour the paused backlog into the ring at once, and a ring seen ≥ 95 % full by the
 * degradation manager means CIRCUIT_BREAK: trades refused into the gap ledger for 4 × 30 s.
 */
import { describe, expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import { expectStored, truthOf } from "../support/bounded-run.ts";
import { startK2 } from "../support/k2-process.ts";
import { processFixture } from "../support/process-fixture.ts";
import { waitUntil } from "../support/wait.ts";

const run = processFixture();

const SYMBOL = "BTCUSDT";
const PAUSED = "ring nearly full: pausing sockets";
const RESUMED = "ring drained: resuming sockets";

/** The last K2 log lines, for a timeout's message. */
const tail = () => run.k2?.logs().split("\n").slice(-15).join("\n") ?? "";

/** Unlabelled metrics from K2's /metrics (Prometheus text), by name. */
async function metrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(k2_[a-z_]+) (\S+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe("K2 process: ring backpressure", () => {
  test("a full ring pauses the sockets, a drained one resumes them; every trade stored once", async () => {
    // 5 ms ticks: 100 trades per burst, so the ring's fill moves in small steps past 0.9.
    run.sim = await startSimulator({
      symbols: [SYMBOL],
      ratePerSec: 20_000,
      tickMs: 5,
      seed: 11,
      faults: { paused: true },
    });
    const s = run.sim;
    run.k2 = await startK2({
      K2_SOURCE: "binance",
      K2_BINANCE_WS_URL: s.wsUrl,
      K2_BINANCE_REST_URL: s.restUrl,
      K2_SYMBOLS: SYMBOL,
      K2_STREAMS: "trade",
      // 16384 rows: the backlog piled up while paused fits in the half of the ring a resume
      // frees, and a late 5 ms consumer tick still pauses well before the ring is 95 % full.
      K2_RING_CAPACITY: "16384",
      // 8-row files: the sink takes ~5,000 rows/s here, a quarter of the market, so the ring
      // fills on a fast machine too (with 16-row files CI's sink nearly kept up with 20,000/s).
      K2_BATCH_MAX_ROWS: "8",
      K2_FLUSH_INTERVAL_MS: "50",
      K2_CONNECT_MIN_INTERVAL_MS: "0",
      K2_WAL_FSYNC_MS: "20",
      K2_QUERY_MEMORY_MB: "128",
    });
    const k = run.k2;
    // Subscribed once connected (the streams are in the URL): no trade is generated unseen.
    await waitUntil(() => s.stats().connections > 0, 5_000, "K2 to connect", { detail: tail });
    s.applyFaults({ paused: false }); // the flood starts
    // The ring fills at the market's rate less the sink's: ~15,000 rows/s net here, ~1 s to 90 %
    // of 16,384. The wait is generous for a machine whose sink is twice as fast.
    await waitUntil(() => k.logs().includes(PAUSED), 20_000, "K2 to pause its sockets", { detail: tail });
    // The market goes on for 4000 trades while K2 does not read: more than the 10 % of the ring
    // left at the pause (a socket still read would overflow it), less than the half a resume
    // frees. Counted, not timed, so a slow machine does not pile up more than the ring can take.
    const atPause = s.stats().tradesGenerated;
    await waitUntil(() => s.stats().tradesGenerated >= atPause + 4_000, 3_000, "4000 more trades", {
      detail: tail,
      everyMs: 5, // counted closely: the market must stop soon after 4000
    });
    s.applyFaults({ paused: true });
    await waitUntil(() => k.logs().includes(RESUMED), 8_000, "K2 to resume its sockets", { detail: tail });

    // Caught up: nothing in the ring or the batcher, no gap open or being repaired.
    let m = new Map<string, number>();
    await waitUntil(
      async () => {
        m = await metrics(k.url);
        return (
          m.get("k2_ring_rows") === 0 &&
          m.get("k2_rows_pending_write") === 0 &&
          m.get("k2_gap_repair_backlog") === 0
        );
      },
      12_000, // ~20 000 rows at 8 per fsync'd file: 2.2 s idle, 3.1 s with a core taken
      "K2 to catch up",
      { detail: tail },
    );
    expect(m.get("k2_backpressure_pauses_total")).toBeGreaterThanOrEqual(1);
    expect(m.get("k2_backpressure_resumes_total")).toBe(m.get("k2_backpressure_pauses_total"));
    expect(m.get("k2_backpressure_paused")).toBe(0);
    // Pausing is what kept the ring from refusing rows (each refusal is a gap to repair over REST).
    expect(m.get("k2_ring_refused_total")).toBe(0);
    expect(m.get("k2_degradation_level")).toBeLessThan(4); // trades were never refused

    expect((await k.stop()).code).toBe(0);
    const lines = k.logs().split("\n");
    const firstPause = lines.findIndex((l) => l.includes(PAUSED));
    expect(lines.findIndex((l, i) => i > firstPause && l.includes(RESUMED))).toBeGreaterThan(firstPause);

    // Every trade the market generated is in the files once: the flood, not a sliver of it.
    await expectStored(k.dataDir, truthOf(s, [SYMBOL], ["trades"]));
  }, 60_000); // the bounded waits above add up to ~50 s in the worst case
});
