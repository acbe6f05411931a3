/**
 * `/v1/book?at=` never answers from files that lack deltas still on their way: with a 2 s flush,
 * an instant a moment ago is past the last visible delta, and K2 must say `not_stored_yet` (with
 * how far the files reach) rather than rebuild a stale book labelled synced. Once flushed, the
 * same instant is answered and equals the simulator's true book.
 */
import { expect, test } from "bun:test";
import { startSimulator, type TrueBook } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "../support/bounded-run.ts";
import { startK2 } from "../support/k2-process.ts";
import { processFixture } from "../support/process-fixture.ts";

const run = processFixture();

const SYMBOL = "BTCUSDT";
interface Answer {
  state: string;
  update_id: number;
  stored_through_us?: number;
  bids: { price: string; quantity: string }[];
  asks: { price: string; quantity: string }[];
}
const iso = (us: number) =>
  `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 23)}${String(us % 1000).padStart(3, "0")}Z`;
const text = (ls: readonly [number, number][]) =>
  ls.map(([p, q]) => `${(p / 1e8).toFixed(8)}:${(q / 1e8).toFixed(8)}`).join(" ");
const levels = (ls: Answer["bids"]) => ls.map((l) => `${l.price}:${l.quantity}`).join(" ");

test("an instant past the last flushed delta is not_stored_yet; once flushed it is the true book", async () => {
  run.sim = await startSimulator({ symbols: [SYMBOL], books: true, ratePerSec: 40, seed: 7 });
  const s = run.sim;
  run.k2 = await startK2(
    simEnv(s, [SYMBOL], {
      K2_STREAMS: "trade,depth",
      K2_FLUSH_INTERVAL_MS: "2000",
      K2_RATE_LIMIT_PER_S: "10000",
    }),
  );
  const k = run.k2;
  const at = async (us: number): Promise<Answer> => {
    const r = await fetch(`${k.url}/v1/book?symbol=${SYMBOL}&levels=5000&at=${iso(us)}`);
    expect(r.status).toBe(200);
    return (await r.json()) as Answer;
  };
  const expectTrue = (us: number, a: Answer) => {
    expect(a.state).toBe("synced");
    const want = s.bookAt(SYMBOL, { publishedUs: us }) as TrueBook;
    expect({ us, u: a.update_id, bids: levels(a.bids), asks: levels(a.asks) }).toEqual({
      us,
      u: want.updateId,
      bids: text(want.bids),
      asks: text(want.asks),
    });
  };
  const live = async () => (await (await fetch(`${k.url}/v1/book?symbol=${SYMBOL}`)).json()) as Answer;
  await waitUntil(async () => (await live()).state === "synced", 15_000, "the book synced");
  await Bun.sleep(2500); // a flush since: the instants probed below lie after the book's base

  // Each answer is either not_stored_yet or the true book; at a moment ago, pending deltas make
  // it not_stored_yet at least once, and the same instant is answered once its rows are flushed.
  let pending: { us: number; storedThrough: number } | undefined;
  for (let i = 0; i < 20 && !pending; i++) {
    const us = s.nowMs() * 1000 - 100_000;
    const a = await at(us);
    if (a.state === "not_stored_yet") {
      expect(a.bids.length + a.asks.length).toBe(0);
      expect(a.stored_through_us!).toBeLessThan(us);
      pending = { us, storedThrough: a.stored_through_us! };
    } else expectTrue(us, a);
    await Bun.sleep(250);
  }
  expect(pending).toBeDefined();
  const p = pending!;
  let later: Answer | undefined;
  await waitUntil(
    async () => {
      later = await at(p.us);
      return later.state !== "not_stored_yet";
    },
    10_000,
    "the instant to be stored",
  );
  expectTrue(p.us, later!);

  // An instant in the future is never stored yet.
  const future = await at(s.nowMs() * 1000 + 60_000_000);
  expect(future.state).toBe("not_stored_yet");
  expect((await k.stop()).code).toBe(0);
}, 45_000);
