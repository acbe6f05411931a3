/** The three health tiers against the real source and simulator: ready when data flows, not when it stalls. */
import { afterEach, describe, expect, test } from "bun:test";
import { SourceHealth } from "../../src/source/health.ts";
import { type Harness, startHarness } from "../support/source-harness.ts";

let h: Harness | undefined;
let health: SourceHealth | undefined;
afterEach(async () => {
  health?.stop();
  await h?.stop();
  h = undefined;
});

describe("source health tiers", () => {
  test("data tier flips readiness within the data timeout; management tick reports; uptime is accounted", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], dataTimeoutMs: 400 });
    const hh = h;
    const facts: Record<string, unknown>[] = [];
    health = new SourceHealth(
      {
        shardStatus: () => hh.source.shardStatus(),
        management: () => ({ gap_backlog: hh.repairer.backlog }),
      },
      { dataTimeoutMs: 400, dataMs: 50, mgmtMs: 200, controlMs: 1000, onManagement: (f) => facts.push(f) },
    );
    const hl = health;
    hl.start();
    expect(hl.ready().ok).toBe(false);
    await hh.waitFor(() => hl.ready().ok, 3000, "ready");
    hh.sim.faults.stall(true);
    const t0 = performance.now();
    await hh.waitFor(() => !hl.ready().ok, 3000, "not ready during the stall");
    // Seen within the data timeout plus one data tick (and the watchdog's own tick).
    expect(performance.now() - t0).toBeLessThan(400 + 50 + 200);
    expect(hl.ready().reason).toContain("delivered nothing");
    hh.sim.faults.stall(false);
    await hh.waitFor(() => hl.ready().ok, 5000, "ready again");
    expect(hl.uptimeRatio()).toBeGreaterThan(0.3);
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
    // Stalled for 2 s: several reconnects happen (each new socket is stalled too); readiness must
    // stay false the whole time.
    let flaps = 0;
    const until = performance.now() + 2000;
    while (performance.now() < until) {
      if (hl.ready().ok) flaps++;
      await Bun.sleep(25);
    }
    expect(hh.source.reconnects).toBeGreaterThanOrEqual(2);
    expect(flaps).toBe(0);
    hh.sim.faults.stall(false);
    await hh.waitFor(() => hl.ready().ok, 5000, "ready again");
  }, 15_000);
});
