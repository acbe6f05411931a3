/**
 * Bun's WebSocket client (K2_WS_CLIENT=bun, the fallback to K2's own) through the source: the
 * simulator faults that touch the socket (drops, stalls, rotation, garbage, pings). The rest of
 * test/source/faults.test.ts runs with K2's default client; all of it passed with Bun's too
 * while Bun's was the default (until 2026-12-05).
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  expectTradesComplete,
  flowMore,
  junkFramesDeadLettered,
  opened,
  serverShutdownRotates,
} from "../support/source-checks.ts";
import { type Harness, type HarnessOptions, startHarness } from "../support/source-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The source harness on one symbol's trades, read by Bun's client. */
function bunHarness(o: Omit<HarnessOptions, "client" | "symbols" | "kinds"> = {}) {
  return startHarness({ client: "bun", symbols: ["BTCUSDT"], kinds: ["trade"], ...o });
}

describe("through the source, against the simulator", () => {
  test("a reset connection: reconnect, repair the gap, nothing lost or doubled", async () => {
    h = await bunHarness({ sim: { ratePerSec: 300 } });
    const hh = h;
    await flowMore(hh, 100);
    hh.sim.faults.dropAll("reset");
    await hh.waitFor(() => opened(hh) >= 2, 5000, "reconnect");
    await flowMore(hh, 200);
    await expectTradesComplete(hh);
    expect(hh.source.reconnects).toBeGreaterThanOrEqual(1);
  });

  test("a silent stall: the watchdog closes it, the source reconnects", async () => {
    h = await bunHarness({ dataTimeoutMs: 300 });
    const hh = h;
    await flowMore(hh, 20);
    hh.sim.faults.stall(true);
    await hh.waitFor(() => hh.events.some((e) => e.type === "closed" && e.reason === "stall"), 3000, "stall");
    hh.sim.faults.stall(false);
    await flowMore(hh, 50);
    await expectTradesComplete(hh);
  });

  test("serverShutdown: make-before-break rotation, no loss", async () => {
    h = await bunHarness({ sim: { ratePerSec: 300 } });
    await serverShutdownRotates(h);
  });

  test("malformed, truncated, oversized and binary frames: dead-lettered, connection kept", async () => {
    h = await bunHarness({ sim: { ratePerSec: 300 } });
    await junkFramesDeadLettered(h);
  });

  test("pings every 40 ms with a 150 ms pong deadline: answered, the connection stays", async () => {
    h = await bunHarness({ sim: { ratePerSec: 300, pingIntervalMs: 40, pongTimeoutMs: 150 } });
    const hh = h;
    await flowMore(hh, 300); // ~1 s: ~25 pings
    expect(hh.sim.stats().disconnects.pongTimeout).toBe(0);
    expect(opened(hh)).toBe(1);
  });
});
