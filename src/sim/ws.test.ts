import { afterEach, describe, expect, test } from "bun:test";
import { type SimOptionsInput, type Simulator, startSimulator } from "./index.ts";
import { aggsOf, connect, type TestClient, tradesOf, waitFor } from "./test-client.ts";

const PRICE_RE = /^\d+\.\d{8}$/;
let sim: Simulator | undefined;
const clients: TestClient[] = [];

async function start(o: SimOptionsInput = {}): Promise<Simulator> {
  sim = await startSimulator({ ratePerSec: 200, tickMs: 5, startTimeMs: 1_672_515_782_136, ...o });
  return sim;
}
async function open(path: string): Promise<TestClient> {
  const c = await connect(`${sim!.wsUrl}${path}`);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients) c.close();
  clients.length = 0;
  await sim?.stop();
  sim = undefined;
});

describe("URL forms", () => {
  test("raw /ws/<stream>: bare trade events in Binance's layout", async () => {
    await start();
    const c = await open("/ws/btcusdt@trade");
    await c.until(() => tradesOf(c).length >= 5);
    const trades = tradesOf(c);
    for (const t of trades) {
      expect(Object.keys(t)).toEqual(["e", "E", "s", "t", "p", "q", "T", "m", "M"]);
      expect(t.s).toBe("BTCUSDT");
      expect(t.p).toMatch(PRICE_RE);
      expect(t.q).toMatch(PRICE_RE);
      expect(Number.isInteger(t.T)).toBe(true);
      expect(String(t.T).length).toBe(13);
    }
    for (let i = 1; i < trades.length; i++) expect(trades[i]!.t).toBe((trades[i - 1]!.t as number) + 1);
  });

  test("combined /stream?streams=: envelopes, aggTrade and bookTicker layouts, any symbol", async () => {
    await start();
    const c = await open("/stream?streams=btcusdt@trade/pepeusdt@aggTrade/dogeusdt@bookTicker");
    await c.until(() => {
      const streams = new Set(c.json().map((m) => (m as { stream: string }).stream));
      return streams.size === 3;
    });
    const msgs = c.json() as Array<{ stream: string; data: Record<string, unknown> }>;
    const agg = msgs.find((m) => m.stream === "pepeusdt@aggTrade")!.data;
    expect(Object.keys(agg)).toEqual(["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]);
    expect(agg.s).toBe("PEPEUSDT");
    expect(agg.p).toMatch(/^0\.0000\d{4}$/);
    const book = msgs.find((m) => m.stream === "dogeusdt@bookTicker")!.data;
    expect(Object.keys(book)).toEqual(["u", "s", "b", "B", "a", "A"]);
    expect(Number(book.a)).toBeGreaterThan(Number(book.b));
  });

  test("timeUnit=MICROSECOND: the same trade carries µs times", async () => {
    await start();
    const ms = await open("/ws/btcusdt@trade");
    const us = await open("/ws/btcusdt@trade?timeUnit=MICROSECOND");
    await waitFor(() => tradesOf(ms).length > 10 && tradesOf(us).length > 10);
    const byId = new Map(tradesOf(ms).map((t) => [t.t, t]));
    let compared = 0;
    for (const t of tradesOf(us)) {
      const m = byId.get(t.t);
      if (!m) continue;
      expect(String(t.T).length).toBe(16);
      expect(Math.floor((t.T as number) / 1000)).toBe(m.T as number);
      expect(t.p).toBe(m.p);
      compared++;
    }
    expect(compared).toBeGreaterThan(5);
  });

  test("bad paths and stream names are rejected at upgrade", async () => {
    await start({ maxStreamsPerConnection: 2 });
    await expect(connect(`${sim!.wsUrl}/ws/btcusdt@nope`)).rejects.toThrow("400");
    await expect(connect(`${sim!.wsUrl}/stream?streams=a1@trade/b1@trade/c1@trade`)).rejects.toThrow("400");
    const r = await fetch(`${sim!.restUrl}/nothing`);
    expect(r.status).toBe(404);
  });
});

describe("control messages over the socket", () => {
  test("SUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY/GET_PROPERTY combined, UNSUBSCRIBE", async () => {
    await start();
    const c = await open("/ws");
    c.send({ method: "SUBSCRIBE", params: ["btcusdt@trade", "ethusdt@aggTrade"], id: 1 });
    await c.until(() => tradesOf(c).length > 0 && aggsOf(c).length > 0);
    expect(c.json()[0]).toEqual({ result: null, id: 1 });
    c.send({ method: "LIST_SUBSCRIPTIONS", id: 2 });
    c.send({ method: "SET_PROPERTY", params: ["combined", true], id: 3 });
    c.send({ method: "GET_PROPERTY", params: ["combined"], id: 4 });
    const replies = () => c.json().filter((m) => (m as { id?: unknown }).id !== undefined);
    await c.until(() => replies().length >= 4);
    expect(replies()).toEqual([
      { result: null, id: 1 },
      { result: ["btcusdt@trade", "ethusdt@aggTrade"], id: 2 },
      { result: null, id: 3 },
      { result: true, id: 4 },
    ]);
    const mark = c.frames.length;
    await c.until(() => c.frames.length > mark + 3);
    const after = c.json().slice(-2) as Array<{ stream?: string }>;
    expect(after.every((m) => typeof m.stream === "string")).toBe(true);
    await Bun.sleep(250); // let the 1-second message window drain before more control messages
    c.send({ method: "UNSUBSCRIBE", params: ["btcusdt@trade", "ethusdt@aggTrade"], id: 5 });
    await c.until(() => replies().length >= 5);
    await Bun.sleep(30);
    const frozen = c.frames.length;
    await Bun.sleep(100);
    expect(c.frames.length).toBe(frozen);
  });

  test("error replies: invalid JSON (3), unknown property (0), bad value type (1), invalid request (2)", async () => {
    await start();
    const c = await open("/ws");
    c.send("{oops");
    c.send({ method: "SET_PROPERTY", params: ["speed", true], id: 8 });
    c.send({ method: "SET_PROPERTY", params: ["combined", 1], id: 9 });
    c.send({ method: "JUMP", id: 10 });
    await c.until(() => c.frames.length >= 4);
    const codes = c.json().map((m) => [(m as { code: number }).code, (m as { id: unknown }).id]);
    expect(codes).toEqual([
      [3, null],
      [0, 8],
      [1, 9],
      [2, 10],
    ]);
  });

  test("1024 streams per connection: the 1025th is refused with code 2", async () => {
    await start({ autoCreateSymbols: false, symbols: ["BTCUSDT"] });
    const c = await open("/ws");
    const names = Array.from({ length: 1024 }, (_, i) => `s${i}usdt@trade`);
    c.send({ method: "SUBSCRIBE", params: names, id: 1 });
    c.send({ method: "SUBSCRIBE", params: ["btcusdt@trade"], id: 2 });
    await c.until(() => c.json().length >= 2);
    expect(c.json()[0]).toEqual({ result: null, id: 1 });
    expect(c.json()[1]).toMatchObject({ code: 2, id: 2 });
  });
});

describe("limits and heartbeats", () => {
  test("maxSymbols bounds auto-created symbols; the refused one carries no data", async () => {
    await start({ symbols: ["BTCUSDT"], maxSymbols: 2 });
    const c = await open("/stream?streams=a1usdt@trade/b1usdt@trade");
    await c.until(() => tradesOf(c).length >= 5);
    expect(new Set(tradesOf(c).map((t) => t.s))).toEqual(new Set(["A1USDT"]));
    expect(sim!.stats()).toMatchObject({ symbols: 2, symbolsRefused: 1 });
  });

  test("more than 5 incoming messages in a second → disconnected; 5 are fine", async () => {
    await start();
    const ok = await open("/ws");
    for (let i = 0; i < 5; i++) ok.send({ method: "LIST_SUBSCRIPTIONS", id: i });
    const bad = await open("/ws");
    for (let i = 0; i < 6; i++) bad.send({ method: "LIST_SUBSCRIPTIONS", id: i });
    const closed = await bad.waitClose();
    expect(closed.code).toBe(1008);
    await ok.until(() => ok.json().length === 5);
    expect(ok.closed).toBeNull();
    expect(sim!.stats().disconnects.rateLimit).toBe(1);
  });

  test("server pings on schedule; a client that answers stays connected past the pong deadline", async () => {
    await start({ pingIntervalMs: 40, pongTimeoutMs: 120 });
    const c = await open("/ws/btcusdt@trade");
    await c.until(() => c.pings >= 4, 2000, "4 pings");
    await Bun.sleep(150);
    expect(c.closed).toBeNull();
    expect(sim!.stats().connections).toBe(1);
  });

  test("a client that never pongs is disconnected after the pong deadline", async () => {
    await start({ pingIntervalMs: 30, pongTimeoutMs: 100 });
    const c = await open("/ws/btcusdt@trade");
    c.ws.pause(); // stops reading: the client never sees the ping, so never pongs
    await waitFor(() => sim!.stats().disconnects.pongTimeout === 1, 2000, "pong timeout");
    expect(sim!.stats().connections).toBe(0);
  });
});

test("one history for everyone: two clients joining at different times agree on every shared trade id", async () => {
  await start();
  const a = await open("/ws/ethusdt@trade");
  await a.until(() => tradesOf(a).length >= 10);
  const b = await open("/stream?streams=ethusdt@trade");
  await waitFor(() => tradesOf(b).length >= 10);
  const firstB = tradesOf(b)[0]!.t as number;
  expect(firstB).toBeGreaterThan(tradesOf(a)[0]!.t as number);
  const byId = new Map(tradesOf(a).map((t) => [t.t, JSON.stringify(t)]));
  const shared = tradesOf(b).filter((t) => byId.has(t.t));
  expect(shared.length).toBeGreaterThan(3);
  for (const t of shared) expect(JSON.stringify(t)).toBe(byId.get(t.t)!);
  const rest = (await (
    await fetch(`${sim!.restUrl}/api/v3/historicalTrades?symbol=ETHUSDT&fromId=${firstB}&limit=1`)
  ).json()) as Array<{ id: number; price: string }>;
  expect(rest[0]).toMatchObject({ id: firstB, price: tradesOf(b)[0]!.p as string });
});
