/**
 * The three health tiers: on an injected clock (exact thresholds and uptime arithmetic), then
 * against the real source and simulator (ready when data flows, not when it stalls).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { LoopLagMonitor } from "../../src/obs/index.ts";
import {
  type HealthInputs,
  type HealthOptions,
  type ShardStatus,
  SourceHealth,
} from "../../src/source/health.ts";
import { type Harness, startHarness } from "../support/source-harness.ts";

let h: Harness | undefined;
let health: SourceHealth | undefined;
afterEach(async () => {
  health?.stop();
  await h?.stop();
  h = undefined;
});

describe("health tiers on an injected clock", () => {
  test("readiness flips at the first data tick past the timeout; uptime is the delivering share", () => {
    let now = 1_000;
    let lastFrameMs = 0;
    const shard: ShardStatus = { shard: 0, open: true, lastFrameMs: 0, backoffAttempt: 0, rotating: false };
    const hl = new SourceHealth(
      { shardStatus: () => [{ ...shard, lastFrameMs }], management: () => ({}) },
      { dataTimeoutMs: 400, dataMs: 50, mgmtMs: 200, controlMs: 1000, now: () => now },
    );
    health = hl;
    hl.start(); // the observed time starts here; the ticks below are driven by hand
    hl.stop();
    const tickAt = (ms: number) => {
      now = ms;
      hl.dataTick();
      return hl.ready();
    };
    expect(tickAt(1_050).ok).toBe(false); // nothing delivered yet
    lastFrameMs = 1_060;
    expect(tickAt(1_100).ok).toBe(true);
    expect(tickAt(1_460).ok).toBe(true); // silent exactly dataTimeoutMs: still delivering
    const stalled = tickAt(1_461);
    expect(stalled.ok).toBe(false);
    expect(stalled.reason).toBe("shard(s) 0 delivered nothing within 400 ms");
    // Delivering during (1050, 1100] and (1100, 1460]; observed since start() at 1000.
    expect(hl.deliveringMs).toBe(410);
    expect(hl.observedMs).toBe(461);
    expect(hl.uptimeRatio()).toBeCloseTo(410 / 461, 12);
  });
});

interface Tick {
  atMs: number;
  /** Silence of shard 0 as this tick saw it (Infinity before its first frame). */
  silentMs: number;
  ok: boolean;
}

/** SourceHealth on the real clock that records what every data tick saw and decided. */
function recordingHealth(inputs: HealthInputs, opts: HealthOptions): { hl: SourceHealth; ticks: Tick[] } {
  let tickNowMs = 0;
  const ticks: Tick[] = [];
  class Recording extends SourceHealth {
    override dataTick(): void {
      super.dataTick();
      const last = this.inputs.shardStatus()[0]?.lastFrameMs ?? 0;
      ticks.push({ atMs: tickNowMs, silentMs: last > 0 ? tickNowMs - last : Infinity, ok: this.ready().ok });
    }
  }
  const hl = new Recording(inputs, { ...opts, now: () => (tickNowMs = performance.now()) });
  return { hl, ticks };
}

describe("source health tiers", () => {
  test("data tier flips readiness at the first tick past the data timeout; management tick reports; uptime is accounted", async () => {
    const dataTimeoutMs = 400;
    const dataMs = 50;
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], dataTimeoutMs });
    const hh = h;
    const facts: Record<string, unknown>[] = [];
    const { hl, ticks } = recordingHealth(
      {
        shardStatus: () => hh.source.shardStatus(),
        management: () => ({ gap_backlog: hh.repairer.backlog }),
      },
      { dataTimeoutMs, dataMs, mgmtMs: 200, controlMs: 1000, onManagement: (f) => facts.push(f) },
    );
    health = hl;
    // The loop's lateness while the ticks run: on a loaded machine a tick comes late by that much.
    const lag = new LoopLagMonitor(5);
    lag.start();
    try {
      hl.start();
      expect(hl.ready().ok).toBe(false);
      await hh.waitFor(() => hl.ready().ok, 3000, "ready");
      hh.sim.faults.stall(true);
      await hh.waitFor(() => !hl.ready().ok, 10 * dataTimeoutMs, "not ready during the stall");
      expect(hl.ready().reason).toContain("delivered nothing");
      hh.sim.faults.stall(false);
      await hh.waitFor(() => hl.ready().ok, 5000, "ready again");
    } finally {
      lag.stop();
    }
    // Every data tick's verdict equals "shard 0 delivered within dataTimeoutMs" as that tick saw
    // it, so readiness went false at the first tick past the timeout, not at a later control tick.
    const deliveredInTime = (t: Tick) => t.silentMs <= dataTimeoutMs;
    expect(ticks.filter((t) => t.ok !== deliveredInTime(t))).toEqual([]);
    const flip = ticks.findIndex((t, i) => i > 0 && ticks[i - 1]!.ok && !t.ok);
    expect(flip).toBeGreaterThan(0);
    expect(ticks[flip]!.silentMs).toBeGreaterThan(dataTimeoutMs);
    // And the ticks come every dataMs, late only by the loop lag measured meanwhile (+ the
    // monitor's own interval, + 25 ms): so the stall was seen within timeout + one tick + lag.
    const gaps = ticks.slice(1).map((t, i) => t.atMs - ticks[i]!.atMs);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(dataMs + lag.max + lag.intervalMs + 25);
    expect(hl.uptimeRatio()).toBeGreaterThan(0);
    expect(hl.uptimeRatio()).toBeLessThan(1);
    expect(facts.length).toBeGreaterThan(0);
    expect(facts[0]).toHaveProperty("gap_backlog");
    expect(facts[0]).toHaveProperty("shards", 1);
  }, 15_000);
});

describe("readiness during a long silent stall", () => {
  test("a replacement connection that delivers nothing does not make the shard look healthy", async () => {
    h = await startHarness({
      symbols: ["BTCUSDT"],
      kinds: ["trade"],
      dataTimeoutMs: 300,
      reconnectBaseMs: 20,
      reconnectMaxMs: 50,
    });
    const hh = h;
    health = new SourceHealth(
      { shardStatus: () => hh.source.shardStatus(), management: () => ({}) },
      { dataTimeoutMs: 300, dataMs: 25, mgmtMs: 1000, controlMs: 1000 },
    );
    const hl = health;
    hl.start();
    await hh.waitFor(() => hl.ready().ok, 3000, "ready");
    hh.sim.faults.stall(true);
    await hh.waitFor(() => !hl.ready().ok, 2000, "not ready");
    // Stalled until the source has replaced the connection three times (each new socket is
    // stalled too and is given a whole data timeout): readiness must stay false the whole time.
    const reconnects = hh.source.reconnects;
    let flaps = 0;
    await hh.waitFor(
      () => {
        if (hl.ready().ok) flaps++;
        return hh.source.reconnects >= reconnects + 3;
      },
      10_000,
      "three reconnects during the stall",
    );
    expect(flaps).toBe(0);
    hh.sim.faults.stall(false);
    await hh.waitFor(() => hl.ready().ok, 5000, "ready again");
  }, 20_000);
});
