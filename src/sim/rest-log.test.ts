/**
 * The REST request log: one entry per answered request with the verdict behind its status, the
 * same over Simulator.restLog() and GET /admin/rest-log; bounded, oldest dropped and counted.
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "./index.ts";
import { RestLog } from "./rest-log.ts";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

// A minute boundary on the simulator clock: the whole test stays inside one weight window.
const MINUTE_ALIGNED_MS = 26_666_667 * 60_000;

test("each answer is logged with its weight, status, Retry-After and why", async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: MINUTE_ALIGNED_MS,
    restWeightLimit: 50,
    restStrikesBeforeBan: 1,
    restBanMs: 60_000,
  });
  const s = sim;
  const path = "/api/v3/historicalTrades?symbol=BTCUSDT&limit=1";
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await fetch(`${s.restUrl}${path}`)).status);
  s.faults.rest({ status: 500 });
  statuses.push((await fetch(`${s.restUrl}/api/v3/aggTrades?symbol=BTCUSDT`)).status);
  // 25 + 25 fill the budget of 50; the third is over it; the fourth is a strike during the
  // Retry-After, the fifth the strike that bans; the sixth meets the ban; the seventh a fault.
  expect(statuses).toEqual([200, 200, 429, 429, 418, 418, 500]);
  const log = s.restLog();
  expect(log.map((e) => e.verdict)).toEqual([
    "ok",
    "ok",
    "over_budget",
    "in_backoff",
    "in_backoff",
    "banned",
    "fault",
  ]);
  expect(log.map((e) => e.weight)).toEqual([25, 25, 25, 25, 25, 25, 4]);
  expect(log[0]!.path).toBe(path);
  expect(log[0]!.ip).toBe("127.0.0.1");
  expect(log[0]!.retryAfterS).toBe(0);
  expect(log[2]!.retryAfterS).toBeGreaterThanOrEqual(1); // until the window ends
  expect(log[5]!.retryAfterS).toBeGreaterThanOrEqual(59); // until the ban ends
  for (let i = 1; i < log.length; i++) expect(log[i]!.atUs).toBeGreaterThanOrEqual(log[i - 1]!.atUs);
  const admin = (await (await fetch(`${s.adminUrl}/rest-log`)).json()) as {
    entries: unknown[];
    dropped: number;
  };
  expect(admin).toEqual({ entries: log, dropped: 0 });
});

test("bounded: the oldest entries go first and are counted", () => {
  const log = new RestLog(3);
  for (let i = 0; i < 5; i++)
    log.add({ atUs: i, ip: "x", path: `/p${i}`, weight: 1, status: 200, retryAfterS: 0, verdict: "ok" });
  expect(log.snapshot().map((e) => e.path)).toEqual(["/p2", "/p3", "/p4"]);
  expect(log.dropped).toBe(2);
});
