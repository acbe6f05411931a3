import { afterEach, expect, test } from "bun:test";
import { expandRanges, type Simulator, startSimulator } from "./index.ts";
import { aggsOf, connect, type TestClient, tradesOf } from "./test-client.ts";

const sims: Simulator[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  clients.length = 0;
  for (const s of sims) await s.stop();
  sims.length = 0;
});

async function restTrades(sim: Simulator, fromId: number, limit: number): Promise<number[]> {
  const r = await fetch(
    `${sim.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${fromId}&limit=${limit}`,
  );
  return ((await r.json()) as Array<{ id: number }>).map((t) => t.id);
}

test("socket ids + REST repairs == generated ids; missing-at-source ids appear in neither", async () => {
  const sim = await startSimulator({ ratePerSec: 400, tickMs: 5, symbols: ["BTCUSDT"] });
  sims.push(sim);
  const c = await connect(`${sim.wsUrl}/stream?streams=btcusdt@trade/btcusdt@aggTrade`);
  clients.push(c);
  await c.until(() => tradesOf(c).length >= 20);
  sim.faults.skipTradeIds(12);
  await c.until(() => tradesOf(c).length >= 40);
  sim.faults.loseTradeIds(9);
  await c.until(() => tradesOf(c).length >= 60);
  sim.faults.skipTradeIds(4);
  sim.faults.loseTradeIds(2);
  await c.until(() => tradesOf(c).length >= 90);
  c.ws.close();
  await c.waitClose();

  const received = tradesOf(c).map((t) => t.t as number);
  const first = received[0]!;
  const last = received[received.length - 1]!;
  const truth = sim.groundTruth().symbols.BTCUSDT!;
  const inWindow = (id: number) => id >= first && id <= last;
  const generated = expandRanges(truth.tradeIds).filter(inWindow);
  const missing = new Set(expandRanges(truth.missingAtSourceTradeIds));
  const withheld = expandRanges(truth.withheldTradeIds).filter(inWindow);
  expect(missing.size).toBe(11);
  expect(withheld.length).toBeGreaterThanOrEqual(16);

  // Repair every gap in what the socket delivered, the way K2's gap repair will.
  const repaired: number[] = [];
  for (let i = 1; i < received.length; i++) {
    const gap = received[i]! - received[i - 1]! - 1;
    if (gap > 0)
      repaired.push(...(await restTrades(sim, received[i - 1]! + 1, gap)).filter((id) => id < received[i]!));
  }
  const union = [...new Set([...received, ...repaired])].sort((a, b) => a - b);
  expect(union).toEqual(generated);
  expect(repaired.sort((a, b) => a - b)).toEqual(withheld);
  for (const id of missing) {
    expect(received.includes(id)).toBe(false);
    expect(repaired.includes(id)).toBe(false);
  }

  // aggTrades: received + withheld aggregate ids are exactly the generated ones over the window.
  const aggs = aggsOf(c).map((a) => a.a as number);
  const aggWithheld = new Set(expandRanges(truth.withheldAggIds));
  const aggWindow = expandRanges(truth.aggIds).filter((a) => a >= aggs[0]! && a <= aggs[aggs.length - 1]!);
  expect(aggWindow.filter((a) => !aggWithheld.has(a))).toEqual(aggs);
  // Lost trade ids never appear inside any aggTrade's f..l either.
  for (const a of aggsOf(c)) {
    for (let id = a.f as number; id <= (a.l as number); id++) expect(missing.has(id)).toBe(false);
  }
});

test("determinism: same seed and start time → identical history; another seed differs", async () => {
  const opts = {
    ratePerSec: 2000,
    tickMs: 5,
    symbols: ["BTCUSDT"],
    startTimeMs: 1_672_515_782_136,
    seed: 99,
  };
  const a = await startSimulator(opts);
  const b = await startSimulator(opts);
  const c = await startSimulator({ ...opts, seed: 100 });
  sims.push(a, b, c);
  await Bun.sleep(150);
  const page = async (sim: Simulator) =>
    await (await fetch(`${sim.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1000&limit=200`)).text();
  const [pa, pb, pc] = await Promise.all([page(a), page(b), page(c)]);
  expect((JSON.parse(pa) as unknown[]).length).toBe(200);
  expect(pa).toBe(pb);
  expect(pc).not.toBe(pa);
  const aggs = async (sim: Simulator) =>
    await (await fetch(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=100&limit=100`)).text();
  expect(await aggs(a)).toBe(await aggs(b));
});
