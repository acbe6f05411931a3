import { afterEach, describe, expect, test } from "bun:test";
import { LoopLagMonitor } from "../obs/index.ts";
import { type SimOptionsInput, type Simulator, startSimulator } from "./index.ts";
import { connect, type TestClient, tradesOf, waitFor } from "./test-client.ts";

let sim: Simulator | undefined;
const clients: TestClient[] = [];

async function start(o: SimOptionsInput = {}): Promise<Simulator> {
  sim = await startSimulator({ ratePerSec: 200, tickMs: 5, symbols: ["BTCUSDT"], ...o });
  return sim;
}
async function open(path: string): Promise<TestClient> {
  const c = await connect(`${sim!.wsUrl}${path}`);
  clients.push(c);
  return c;
}
const ids = (c: TestClient) => tradesOf(c).map((t) => t.t as number);

afterEach(async () => {
  for (const c of clients) c.close();
  clients.length = 0;
  await sim?.stop();
  sim = undefined;
});

describe("connection faults", () => {
  test("dropAll close → close frame 1001; dropAll reset → abrupt 1006 (no close frame)", async () => {
    await start();
    const a = await open("/ws/btcusdt@trade");
    sim!.faults.dropAll("close");
    expect((await a.waitClose()).code).toBe(1001);
    const b = await open("/ws/btcusdt@trade");
    sim!.faults.dropAll("reset");
    expect((await b.waitClose()).code).toBe(1006);
    expect(sim!.stats().disconnects.dropped).toBe(2);
  });

  test("stall: sockets stay open but nothing is sent (no data, no pings); generation goes on", async () => {
    await start({ pingIntervalMs: 20, pongTimeoutMs: 1000 });
    const c = await open("/ws/btcusdt@trade");
    await c.until(() => c.frames.length > 3 && c.pings > 0);
    sim!.faults.stall(true);
    await Bun.sleep(30);
    const [frames, pings, generated] = [
      c.frames.length,
      c.pings,
      sim!.groundTruth().symbols.BTCUSDT!.tradeCount,
    ];
    await Bun.sleep(150);
    expect(c.frames.length).toBe(frames);
    expect(c.pings).toBe(pings);
    expect(c.closed).toBeNull();
    expect(sim!.groundTruth().symbols.BTCUSDT!.tradeCount).toBeGreaterThan(generated + 10);
    sim!.faults.stall(false);
    await c.until(() => c.frames.length > frames);
  });

  test("sendPings=false: no pings; answerPings=false: client pings go unanswered until switched back", async () => {
    await start({ pingIntervalMs: 20, faults: { sendPings: false } });
    const c = await open("/ws/btcusdt@trade");
    let pongs = 0;
    c.ws.addEventListener("pong", () => {
      pongs++;
    });
    await Bun.sleep(120);
    expect(c.pings).toBe(0);
    c.ws.ping("a");
    await waitFor(() => pongs === 1, 1000, "pong");
    sim!.faults.answerPings(false);
    await Bun.sleep(20);
    c.ws.ping("b");
    await Bun.sleep(150);
    expect(pongs).toBe(1);
    sim!.faults.answerPings(true);
    await waitFor(() => pongs === 2, 1000, "late pong");
  });

  test("refuseConnections: upgrades get 503 for the period, then succeed", async () => {
    await start();
    // Long enough that the first attempt lands inside it even on a loaded machine.
    sim!.faults.refuseConnections(500);
    await expect(connect(`${sim!.wsUrl}/ws/btcusdt@trade`)).rejects.toThrow("503");
    expect(sim!.faults.get().refuseRemainingMs).toBeGreaterThan(0);
    await waitFor(() => sim!.faults.get().refuseRemainingMs === 0, 5000, "the refusal period to end");
    const c = await open("/ws/btcusdt@trade");
    expect(c.closed).toBeNull();
    expect(sim!.stats().refusedUpgrades).toBe(1);
  });

  test("max lifetime cut: connection closed with 1001 after the configured lifetime", async () => {
    const lifetimeMs = 120;
    await start({ faults: { maxLifetimeMs: lifetimeMs } });
    // How late this process ran its timers meanwhile: the cut comes from a housekeeping timer, so
    // on a loaded machine it is late by that much without the simulator being wrong.
    const lag = new LoopLagMonitor(5);
    lag.start();
    const beforeConnect = performance.now();
    let closedAt = 0;
    try {
      const c = await open("/ws/btcusdt@trade");
      const openedAt = performance.now();
      c.ws.addEventListener("close", () => {
        closedAt = performance.now();
      });
      expect((await c.waitClose(10 * lifetimeMs)).code).toBe(1001);
      // Not before the lifetime: the server cuts once `lifetimeMs` has passed since its own open,
      // which lies after beforeConnect, so this bound is exact under any load.
      expect(closedAt - beforeConnect).toBeGreaterThanOrEqual(lifetimeMs);
      // Not much after: one housekeeping period (at most 50 ms, server.ts), the loop lag measured
      // by a 5 ms timer (+ its interval), 25 ms for the close to reach the client.
      expect(closedAt - openedAt).toBeLessThanOrEqual(lifetimeMs + 50 + lag.max + lag.intervalMs + 25);
    } finally {
      lag.stop();
    }
    expect(sim!.stats().disconnects.lifetime).toBe(1);
  });

  test("serverShutdown: raw event, and !serverShutdown on combined streams", async () => {
    await start({ startTimeMs: 1_700_000_000_000 });
    const raw = await open("/ws/btcusdt@trade");
    const comb = await open("/stream?streams=btcusdt@trade&timeUnit=MICROSECOND");
    sim!.faults.serverShutdown();
    const isShutdown = (m: unknown) => JSON.stringify(m).includes("serverShutdown");
    await waitFor(() => raw.json().some(isShutdown) && comb.json().some(isShutdown));
    const r = raw.json().find(isShutdown) as { e: string; E: number };
    expect(r.e).toBe("serverShutdown");
    expect(String(r.E).length).toBe(13);
    const c = comb.json().find(isShutdown) as { stream: string; data: { e: string; E: number } };
    expect(c.stream).toBe("!serverShutdown");
    expect(String(c.data.E).length).toBe(16);
  });
});

describe("frame faults", () => {
  test.each(["malformed", "truncated", "oversized", "binary"] as const)(
    "garbage %s frames come in addition to real frames: trade ids stay contiguous",
    async (kind) => {
      await start({ faults: { garbageRatio: 0.5, garbageKinds: [kind], oversizedBytes: 100_000 } });
      const c = await open("/ws/btcusdt@trade");
      await c.until(() => c.frames.length >= 60);
      const t = ids(c);
      for (let i = 1; i < t.length; i++) expect(t[i]).toBe(t[i - 1]! + 1);
      const garbage = c.frames.length - t.length;
      expect(garbage).toBeGreaterThan(5);
      expect(sim!.stats().garbageFramesSent).toBeGreaterThanOrEqual(garbage);
      const extra = c.frames.filter((f) => f.text === null || !f.text.includes('"e":"trade"'));
      if (kind === "binary") expect(extra.every((f) => f.binary !== null)).toBe(true);
      if (kind === "oversized") expect(extra.every((f) => (f.text?.length ?? 0) >= 100_000)).toBe(true);
      if (kind !== "binary" && kind !== "oversized") {
        const bad = c.frames.filter((f) => {
          try {
            JSON.parse(f.text ?? "");
            return false;
          } catch {
            return true;
          }
        });
        expect(bad.length).toBe(garbage);
      }
    },
  );

  test("skipTradeIds: the socket never delivers them, REST serves them, ground truth lists them", async () => {
    await start();
    const c = await open("/ws/btcusdt@trade");
    await c.until(() => ids(c).length >= 5);
    sim!.faults.skipTradeIds(10, "BTCUSDT");
    await c.until(() => ids(c).length >= 40);
    const got = ids(c);
    const gapAt = got.findIndex((id, i) => i > 0 && id !== got[i - 1]! + 1);
    expect(gapAt).toBeGreaterThan(0);
    const from = got[gapAt - 1]! + 1;
    const to = got[gapAt]! - 1;
    expect(to - from + 1).toBeGreaterThanOrEqual(10);
    const truth = sim!.groundTruth().symbols.BTCUSDT!;
    expect(truth.withheldTradeIds).toEqual([[from, to]]);
    const rest = (await (
      await fetch(
        `${sim!.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=${to - from + 1}`,
      )
    ).json()) as Array<{ id: number }>;
    expect(rest.map((r) => r.id)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
  });

  test("loseTradeIds: a gap neither the socket nor REST can fill; ground truth says missing at source", async () => {
    await start();
    const c = await open("/ws/btcusdt@trade");
    await c.until(() => ids(c).length >= 5);
    sim!.applyFaults({ loseTradeIds: { count: 7 } });
    await c.until(() => ids(c).length >= 30);
    const got = ids(c);
    const gapAt = got.findIndex((id, i) => i > 0 && id !== got[i - 1]! + 1);
    const from = got[gapAt - 1]! + 1;
    expect(got[gapAt]).toBe(from + 7);
    expect(sim!.groundTruth().symbols.BTCUSDT!.missingAtSourceTradeIds).toEqual([[from, from + 6]]);
    const rest = (await (
      await fetch(`${sim!.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=3`)
    ).json()) as Array<{ id: number }>;
    expect(rest.map((r) => r.id)).toEqual([from + 7, from + 8, from + 9]);
  });
});

describe("admin HTTP endpoint", () => {
  test("GET/POST /admin/faults, validation, ground truth and stats", async () => {
    await start();
    const get = await (await fetch(`${sim!.adminUrl}/faults`)).json();
    expect(get).toMatchObject({
      stall: false,
      sendPings: true,
      garbageRatio: 0,
      rest: { status: 0, delayMs: 0 },
    });
    const post = await fetch(`${sim!.adminUrl}/faults`, {
      method: "POST",
      body: JSON.stringify({
        stall: true,
        rest: { delayMs: 5 },
        loseTradeIds: { count: 3, symbol: "BTCUSDT" },
      }),
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ stall: true, rest: { status: 0, delayMs: 5 } });
    expect(sim!.faults.get().stall).toBe(true);
    const bad = await fetch(`${sim!.adminUrl}/faults`, { method: "POST", body: '{"garbageRatio":3}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("garbageRatio");
    expect((await fetch(`${sim!.adminUrl}/faults`, { method: "POST", body: '{"warp":1}' })).status).toBe(400);
    await waitFor(() => sim!.groundTruth().symbols.BTCUSDT!.missingAtSourceTradeIds.length === 1);
    const gt = (await (await fetch(`${sim!.adminUrl}/ground-truth`)).json()) as {
      symbols: Record<string, { missingAtSourceTradeIds: number[][] }>;
    };
    expect(gt.symbols.BTCUSDT!.missingAtSourceTradeIds).toEqual(
      sim!.groundTruth().symbols.BTCUSDT!.missingAtSourceTradeIds,
    );
    const stats = (await (await fetch(`${sim!.adminUrl}/stats`)).json()) as { symbols: number };
    expect(stats.symbols).toBe(1);
    expect(() => sim!.faults.garbage(2)).toThrow("garbageRatio");
  });
});
