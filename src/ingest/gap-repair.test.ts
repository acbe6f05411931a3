/**
 * GapRepairer against the real simulator's REST: canRepair is asked before every page, so a ring
 * that fills in the middle of a long gap stops the fetching (rows it would refuse are not asked
 * for) and the repair goes on once it has room. Judged from the simulator's request log.
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../sim/index.ts";
import { BinanceRest } from "../source/binance/rest.ts";
import { GapLedger } from "./gap-ledger.ts";
import { GapRepairer } from "./gap-repair.ts";

let sim: Simulator | undefined;
let repairer: GapRepairer | undefined;
afterEach(async () => {
  repairer?.stop();
  await repairer?.whenIdle();
  await sim?.stop();
  sim = undefined;
});

const pages = (s: Simulator) =>
  s.restLog().filter((e) => e.path.startsWith("/api/v3/historicalTrades")).length;

test("a repair waits between pages while canRepair is false, then finishes the gap", async () => {
  sim = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 20_000, startTradeId: 1 });
  const s = sim;
  const deadline = performance.now() + 5000;
  while (s.groundTruth().symbols.BTCUSDT!.tradeCount < 3000 && performance.now() < deadline)
    await Bun.sleep(20);
  s.faults.pause(true);
  let room = true;
  const emitted: number[] = [];
  const ledger = new GapLedger();
  repairer = new GapRepairer({
    rest: new BinanceRest({ baseUrl: s.restUrl }),
    ledger,
    nowUs: () => Date.now() * 1000,
    canRepair: () => room,
    emit: (frame) => {
      emitted.push(Number(/"t":(\d+)/.exec(frame)![1]));
      if (emitted.length === 1000) room = false; // the first page filled the ring
    },
  });
  repairer.enqueue(ledger.open("trades", "BTCUSDT", 1, 2500, "stream", Date.now() * 1000));
  const t0 = performance.now();
  while (emitted.length < 1000 && performance.now() - t0 < 5000) await Bun.sleep(10);
  await Bun.sleep(300); // six polls of canRepair: no page may be fetched meanwhile
  expect(pages(s)).toBe(1);
  expect(emitted.length).toBe(1000);
  room = true;
  await repairer.whenIdle();
  expect(pages(s)).toBe(3);
  expect(emitted).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  expect(ledger.entries().map((e) => [e.from_id, e.to_id, e.state])).toEqual([[1, 2500, "repaired"]]);
});
