/**
 * What an operator reads about the market connection, from a real K2 process: an unreachable
 * source names its host, the cause and when the next try is (a closed port on 127.0.0.1, a server
 * that refuses the WebSocket upgrade); sessions that are up say so once, with the stream count;
 * the periodic status line carries the ingest rate.
 */
import { afterEach, expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Line = Record<string, unknown> & { msg: string };
const lines = (k: K2Process): Line[] =>
  k
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);

async function k2On(wsUrl: string): Promise<K2Process> {
  const k = await startK2({
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: wsUrl,
    K2_BINANCE_REST_URL: "http://127.0.0.1:9",
    K2_SYMBOLS: "BTCUSDT",
    K2_CONNECT_MIN_INTERVAL_MS: "0",
    K2_RECONNECT_BASE_MS: "200",
    K2_RECONNECT_MAX_MS: "400",
  });
  cleanups.push(() => k.cleanup());
  return k;
}

async function unreachableLine(k: K2Process): Promise<Line> {
  let found: Line | undefined;
  await waitUntil(
    () => {
      found = lines(k).find((l) => l.msg.startsWith("source unreachable"));
      return found !== undefined;
    },
    10_000,
    "a 'source unreachable' line",
  );
  return found!;
}

function closedPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

test("a closed port: host, ECONNREFUSED and the delay before the next try", async () => {
  const port = closedPort();
  const k = await k2On(`ws://127.0.0.1:${port}`);
  const l = await unreachableLine(k);
  expect(l.host).toBe(`127.0.0.1:${port}`);
  expect(String(l.cause)).toContain("ECONNREFUSED");
  expect(l.retry_in_ms).toBeGreaterThanOrEqual(0);
  expect(l.retry_in_ms).toBeLessThanOrEqual(400);
  expect(l.msg).toContain(`127.0.0.1:${port}`);
  expect(l.msg).toMatch(/next try in \d+ ms/);
  expect(k.logs()).not.toContain('"detail":"code 1006"');
  expect((await k.stop()).code).toBe(0);
});

test("a server that refuses the upgrade: its HTTP status is the cause", async () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("no streams here", { status: 403 }),
  });
  cleanups.push(() => server.stop(true));
  const k = await k2On(`ws://127.0.0.1:${server.port}`);
  const l = await unreachableLine(k);
  expect(l.host).toBe(`127.0.0.1:${server.port}`);
  expect(String(l.cause)).toContain("HTTP 403");
  expect(typeof l.retry_in_ms).toBe("number");
  expect((await k.stop()).code).toBe(0);
});

test("sessions up: one 'connected' line with the stream count; the status line has rows/s", async () => {
  const sim = await startSimulator({ symbols: ["BTCUSDT", "ETHUSDT"], ratePerSec: 100 });
  cleanups.push(() => sim.stop());
  const k = await startK2(
    simEnv(sim, ["BTCUSDT", "ETHUSDT"], { K2_STREAMS: "trade,aggTrade", K2_HEALTH_MGMT_MS: "300" }),
  );
  cleanups.push(() => k.cleanup());
  await waitUntil(
    () => lines(k).filter((l) => l.msg === "management tick" && Number(l.rows_per_s) > 0).length >= 2,
    10_000,
    "status lines with a rate",
  );
  const connected = lines(k).filter((l) => l.msg.startsWith("connected"));
  expect(connected.length).toBe(1);
  expect(connected[0]!.msg).toBe(`connected to 127.0.0.1:${new URL(sim.wsUrl).port}, subscribed 4 streams`);
  // Two symbols trading ~100 times a second, trades and aggregate trades: tens to hundreds of rows/s.
  const rate = Number(lines(k).findLast((l) => l.msg === "management tick")!.rows_per_s);
  expect(rate).toBeGreaterThan(20);
  expect(rate).toBeLessThan(2000);
  expect((await k.stop()).code).toBe(0);
});
