/**
 * Each simulator fault switch against the source: recovery, completeness (ring ids + REST repairs
 * = ground truth), and the ledger's account of what could not be repaired. Timers are shortened
 * by configuration only. The source reads with K2's default client (K2_WS_CLIENT=raw); the socket
 * faults with Bun's client are in bun-client.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { LoopLagMonitor } from "../../src/obs/index.ts";
import type { LifecycleEvent } from "../../src/source/binance/source.ts";
import {
  expectTradesComplete,
  flowMore,
  junkFramesDeadLettered,
  opened,
  serverShutdownRotates,
} from "../support/source-checks.ts";
import { type Harness, startHarness } from "../support/source-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type Connecting = Extract<LifecycleEvent, { type: "connecting" }>;
const isStallClose = (e: LifecycleEvent) => e.type === "closed" && e.reason === "stall";

describe("fault recovery", () => {
  for (const mode of ["close", "reset"] as const) {
    test(`drop all connections (${mode}): reconnect, repair the gap, nothing lost or doubled`, async () => {
      const reconnectBaseMs = 50;
      h = await startHarness({
        symbols: ["BTCUSDT"],
        kinds: ["trade"],
        reconnectBaseMs,
        reconnectMaxMs: 400,
        sim: { ratePerSec: 300 },
      });
      const hh = h;
      await flowMore(hh, 100);
      const before = hh.events.length;
      // How late this process ran its timers meanwhile (see the stall test below).
      const lag = new LoopLagMonitor(5);
      lag.start();
      try {
        hh.sim.faults.dropAll(mode);
        await hh.waitFor(() => opened(hh) >= 2, 5000, "reconnect");
      } finally {
        lag.stop();
      }
      await flowMore(hh, 200);
      await expectTradesComplete(hh);
      expect(hh.source.reconnects).toBeGreaterThanOrEqual(1);
      // Prompt recovery, judged on the schedule the source computed rather than on a wall clock:
      // the reconnect waits one first-step backoff (full jitter under reconnectBaseMs), and that
      // very connection delivers. The wall-clock figure, reconnect to first frame, is reported by
      // native-bench/source-recovery.ts.
      const after = hh.events.slice(before);
      const closed = after.find((e) => e.type === "closed");
      const reconnect = after.find((e): e is Connecting & { atMs: number } => e.type === "connecting");
      expect(closed).toBeDefined();
      expect(reconnect).toBeDefined();
      expect(reconnect!.delayMs).toBeGreaterThanOrEqual(0);
      expect(reconnect!.delayMs).toBeLessThanOrEqual(reconnectBaseMs);
      expect(after.some((e) => e.type === "first_frame" && e.conn === reconnect!.conn)).toBe(true);
      // And it waited what it scheduled: from the close to the new attempt, the delay (less 1 ms of
      // timer rounding), late only by the loop lag measured meanwhile (+ its interval, + 25 ms).
      const waitedMs = reconnect!.atMs - closed!.atMs;
      expect(waitedMs).toBeGreaterThanOrEqual(reconnect!.delayMs - 1);
      expect(waitedMs).toBeLessThanOrEqual(reconnect!.delayMs + lag.max + lag.intervalMs + 25);
    });
  }

  test("a silent stall is detected after the data timeout (not before, not much later) and the source reconnects", async () => {
    const dataTimeoutMs = 300;
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], dataTimeoutMs });
    const hh = h;
    await flowMore(hh, 20);
    // How late this process ran its timers meanwhile: a late watchdog tick on a loaded machine is
    // the loop's lateness, not a slow watchdog, so the upper bound below grows with it.
    const lag = new LoopLagMonitor(5);
    lag.start();
    try {
      hh.sim.faults.stall(true);
      await hh.waitFor(() => hh.events.some(isStallClose), 10 * dataTimeoutMs, "stall detection");
    } finally {
      lag.stop();
    }
    // The silence the watchdog acted on: from the shard's last frame (the stalled replacement
    // connections deliver none) to the close. It acts only on a silence longer than the timeout,
    // so the lower bound is exact under any load.
    const silentMs = hh.events.find(isStallClose)!.atMs - hh.source.shardStatus()[0]!.lastFrameMs;
    expect(silentMs).toBeGreaterThan(dataTimeoutMs);
    // Upper bound: the timeout, one watchdog tick (a tenth of the timeout, connection.ts), the
    // loop lag measured by a 5 ms timer during the stall (+ its interval), 25 ms for the rest.
    const tickMs = dataTimeoutMs / 10;
    expect(silentMs).toBeLessThanOrEqual(dataTimeoutMs + tickMs + lag.max + lag.intervalMs + 25);
    hh.sim.faults.stall(false);
    await flowMore(hh, 50);
    await expectTradesComplete(hh);
  });

  test("pings stop: data still flows and the connection stays; the watchdog only acts on silence", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { pingIntervalMs: 50 } });
    const hh = h;
    await flowMore(hh, 20);
    hh.sim.faults.sendPings(false);
    await flowMore(hh, 100);
    expect(opened(hh)).toBe(1);
    await expectTradesComplete(hh);
  });

  test("connections refused: backoff delays follow 2^n ceilings with full jitter, then recovery", async () => {
    h = await startHarness({
      symbols: ["BTCUSDT"],
      kinds: ["trade"],
      reconnectBaseMs: 40,
      reconnectMaxMs: 320,
    });
    const hh = h;
    await flowMore(hh, 20);
    hh.sim.faults.refuseConnections(1500);
    hh.sim.faults.dropAll("reset");
    await hh.waitFor(() => hh.source.shardStatus()[0]!.open === false, 2000, "drop");
    await hh.waitFor(() => hh.events.filter((e) => e.type === "first_frame").length >= 2, 8000, "recovery");
    const delays = hh.events.filter((e) => e.type === "connecting").slice(1);
    expect(delays.length).toBeGreaterThanOrEqual(4);
    delays.forEach((e, i) => {
      if (e.type !== "connecting") return;
      expect(e.delayMs).toBeGreaterThanOrEqual(0);
      expect(e.delayMs).toBeLessThanOrEqual(Math.min(320, 40 * 2 ** i));
    });
    await flowMore(hh, 50);
    await expectTradesComplete(hh);
  });

  test("serverShutdown: make-before-break rotation, no loss, duplicates from the overlap removed", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 300 } });
    await serverShutdownRotates(h);
  });

  test("24 h lifetime shortened to 400 ms: rotation before the cut loses nothing", async () => {
    h = await startHarness({
      symbols: ["BTCUSDT"],
      kinds: ["trade"],
      rotateAfterMs: 300,
      sim: { ratePerSec: 300 },
    });
    const hh = h;
    hh.sim.faults.maxLifetime(400);
    await hh.waitFor(() => hh.source.rotations >= 3, 5000, "three rotations");
    await flowMore(hh, 50);
    await expectTradesComplete(hh);
    expect(hh.ingest.duplicates).toBeGreaterThan(0); // the overlaps happened and were removed
  });

  test("malformed, truncated, oversized and binary frames at 10 %: all dead-lettered, connection kept", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 300 } });
    await junkFramesDeadLettered(h);
  });

  test("trade ids withheld from the socket are repaired from REST", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 200 } });
    const hh = h;
    await flowMore(hh, 20);
    hh.sim.faults.skipTradeIds(1000, "BTCUSDT");
    await flowMore(hh, 100, "BTCUSDT", 15_000);
    await expectTradesComplete(hh);
    const repaired = hh.ledger.entries({ state: "repaired" });
    expect(repaired.reduce((n, e) => n + e.to_id - e.from_id + 1, 0)).toBeGreaterThanOrEqual(1000);
  }, 20_000);

  test("ids lost at the source: the ledger says missing_at_source, everything else is complete", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"] });
    const hh = h;
    await flowMore(hh, 20);
    hh.sim.faults.loseTradeIds(25, "BTCUSDT");
    await flowMore(hh, 50);
    await expectTradesComplete(hh);
    const lost = hh.sim.groundTruth().symbols.BTCUSDT!.missingAtSourceTradeIds;
    const ledgered = hh.ledger.entries({ state: "missing_at_source" }).map((e) => [e.from_id, e.to_id]);
    expect(ledgered).toEqual(lost);
  });

  for (const status of [429, 418, 500] as const) {
    test(`REST answering ${status}: repair waits, retries and completes once REST recovers`, async () => {
      h = await startHarness({
        symbols: ["BTCUSDT"],
        kinds: ["trade"],
        sim: { ratePerSec: 200, restBanMs: 300 },
      });
      const hh = h;
      await flowMore(hh, 20);
      hh.sim.faults.rest({ status });
      hh.sim.faults.skipTradeIds(50, "BTCUSDT");
      await hh.waitFor(
        () => hh.ledger.entries().some((e) => e.attempts > 0),
        5000,
        "a failed repair attempt",
      );
      hh.sim.faults.rest({ status: 0 });
      await flowMore(hh, 50, "BTCUSDT", 15_000);
      await expectTradesComplete(hh);
      expect(hh.ledger.entries({ state: "repaired" }).length).toBeGreaterThan(0);
    });
  }

  test("slow REST answers: repair still completes, within the client's timeout", async () => {
    h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 200 } });
    const hh = h;
    await flowMore(hh, 20);
    hh.sim.faults.rest({ delayMs: 400 });
    hh.sim.faults.skipTradeIds(30, "BTCUSDT");
    await flowMore(hh, 100, "BTCUSDT", 10_000);
    await expectTradesComplete(hh);
    const e = hh.ledger.entries({ state: "repaired" })[0]!;
    expect((e.updated_at_us - e.detected_at_us) / 1000).toBeGreaterThanOrEqual(400);
  }, 15_000);
});
