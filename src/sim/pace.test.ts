/**
 * paceBytes: a max-rate market waits for its slowest reader instead of disconnecting it. A raw TCP
 * client upgrades to WebSocket and then stops reading; the simulator must stop generating (ground
 * truth stands still, no disconnect) and go on once the client reads again.
 */
import { afterEach, expect, test } from "bun:test";
import { type Socket, connect as tcpConnect } from "node:net";
import { type Simulator, startSimulator } from "./index.ts";
import { waitFor } from "./test-client.ts";

let sim: Simulator | undefined;
let sock: Socket | undefined;
afterEach(async () => {
  sock?.destroy();
  sock = undefined;
  await sim?.stop();
  sim = undefined;
});

const generated = (s: Simulator) => s.groundTruth().symbols.BTCUSDT?.tradeCount ?? 0;

/** A WebSocket upgrade by hand, so the test decides when bytes are read. */
async function rawSubscriber(s: Simulator): Promise<{ sock: Socket; received: () => number }> {
  const url = new URL(`${s.wsUrl}/ws/btcusdt@trade`);
  const c = tcpConnect(Number(url.port), url.hostname);
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    c.once("error", reject);
    c.once("connect", () => {
      c.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    c.on("data", (b: Buffer) => {
      bytes += b.length;
      if (b.includes("101 Switching Protocols")) resolve();
    });
  });
  return { sock: c, received: () => bytes };
}

test("a reader that stops reading stops the market; it goes on when the reader reads again", async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    ratePerSec: 1e9,
    maxTradesPerTick: 2000,
    tickMs: 5,
    paceBytes: 64 * 1024,
    backpressureLimitBytes: 4 * 1024 * 1024,
  });
  const s = sim;
  const r = await rawSubscriber(s);
  sock = r.sock;
  await waitFor(() => r.received() > 100_000, 5000, "frames on the raw socket");
  r.sock.pause();
  // Kernel buffers fill first, then the simulator's own: from then on ticks are skipped.
  await waitFor(() => s.stats().ticksPaced > 10, 10_000, "paced ticks");
  const held = generated(s);
  await Bun.sleep(200); // ~40 ticks at 2000 trades each would be generated without the pacing
  expect(generated(s)).toBe(held);
  expect(s.stats().connections).toBe(1);
  r.sock.resume();
  await waitFor(() => generated(s) > held + 10_000, 5000, "generation after the reader resumed");
  expect(s.stats().connections).toBe(1);
});

test("off by default: an unread socket does not hold the market", async () => {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 1e9, maxTradesPerTick: 2000, tickMs: 5 });
  const s = sim;
  const r = await rawSubscriber(s);
  sock = r.sock;
  r.sock.pause();
  const before = generated(s);
  await waitFor(() => generated(s) > before + 100_000, 10_000, "generation with a stalled reader");
  expect(s.stats().ticksPaced).toBe(0);
});
