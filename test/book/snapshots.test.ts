/**
 * SnapshotFetcher alone (a unit test with a scripted REST; the capture's test uses the simulator):
 * one request at a time, a symbol asked twice is fetched once, failures wait and double, a
 * 429's Retry-After is honoured.
 */
import { expect, test } from "bun:test";
import { SnapshotFetcher } from "../../src/book/snapshots.ts";
import { RestError } from "../../src/source/binance/rest.ts";

const RETRY_MS = 60;

function harness(answer: (symbol: string, call: number) => Promise<string>) {
  let inFlight = 0;
  let maxInFlight = 0;
  const calls: string[] = [];
  const got: string[] = [];
  const rest = {
    async depth(symbol: string) {
      calls.push(symbol);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await answer(symbol, calls.length);
      } finally {
        inFlight--;
      }
    },
  };
  const names = ["AAA", "BBB", "CCC"];
  let f: SnapshotFetcher;
  f = new SnapshotFetcher(
    rest,
    undefined,
    100,
    (id) => names[id]!,
    {
      ok: (sym, no, body) => got.push(`${names[sym]}#${no}:${body}`),
      failed: (sym, no) => f.ask(sym, no + 1), // the synchroniser asks again with a new number
    },
    () => performance.now() * 1000,
    RETRY_MS,
  );
  return { f, calls, got, maxInFlight: () => maxInFlight };
}

test("one request at a time, in the order asked; a repeated ask is fetched once, with its newest number", async () => {
  const h = harness(async (s) => {
    await Bun.sleep(5);
    return `{${s}}`;
  });
  h.f.ask(0, 1);
  h.f.ask(1, 1);
  h.f.ask(2, 1);
  h.f.ask(2, 2); // CCC asked again before it was sent
  const deadline = performance.now() + 2000;
  while (h.got.length < 3 && performance.now() < deadline) await Bun.sleep(5);
  expect(h.calls).toEqual(["AAA", "BBB", "CCC"]);
  expect(h.got).toEqual(["AAA#1:{AAA}", "BBB#1:{BBB}", "CCC#2:{CCC}"]);
  expect(h.maxInFlight()).toBe(1);
  h.f.stop();
});

test("a failure waits before the next try, doubling; a 429's Retry-After is honoured", async () => {
  const times: number[] = [];
  const h = harness(async (_s, call) => {
    times.push(performance.now());
    if (call === 1) throw new RestError("server", "HTTP 500", true, 0, 500);
    if (call === 2) throw new RestError("server", "HTTP 500", true, 0, 500);
    if (call === 3) throw new RestError("rate_limited", "429", true, 400, 429);
    return "{}";
  });
  h.f.ask(0, 1);
  const deadline = performance.now() + 5000;
  while (h.got.length < 1 && performance.now() < deadline) await Bun.sleep(10);
  expect(h.got).toEqual(["AAA#4:{}"]);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(gaps[0]!).toBeGreaterThanOrEqual(RETRY_MS - 5);
  expect(gaps[1]!).toBeGreaterThanOrEqual(2 * RETRY_MS - 5);
  expect(gaps[2]!).toBeGreaterThanOrEqual(400 - 5);
  h.f.stop();
}, 10_000);

test("an answer that did not sync the book is asked again only after a wait; once synced, at once", async () => {
  const times: number[] = [];
  const h = harness(async () => {
    times.push(performance.now());
    return "{}";
  });
  const wait = async (n: number) => {
    const deadline = performance.now() + 2000;
    while (h.got.length < n && performance.now() < deadline) await Bun.sleep(2);
  };
  h.f.ask(0, 1);
  await wait(1);
  h.f.ask(0, 2); // "too old": the synchroniser asks again
  await wait(2);
  expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(RETRY_MS - 5);
  h.f.synced(0);
  const t = performance.now();
  h.f.ask(0, 3); // a later resync of a synced book
  await wait(3);
  expect(times[2]! - t).toBeLessThan(RETRY_MS / 2);
  h.f.stop();
});
