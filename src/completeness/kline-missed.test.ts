import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MISSED_MAX_MINUTES, missedMinutes } from "./kline-missed.ts";
import { appendVerdict } from "./kline-verdicts.ts";

const M = 60_000_000;
const T0 = Date.UTC(2025, 0, 2, 12) * 1000;
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const judge = (d: string, openUs: number) =>
  appendVerdict(d, {
    symbol: "BTCUSDT",
    open_time_us: openUs,
    first_id: 1,
    last_id: 2,
    trades: 2,
    stored: 2,
    verdict: "verified",
    detail: "",
    checked_at_us: openUs + M,
  });

test("missed minutes: the downtime up to the first live kline and holes after the first verdict, none before it", () => {
  dir = mkdtempSync(join(tmpdir(), "k2-missed-"));
  expect(missedMinutes(dir, "BTCUSDT", T0)).toEqual([]); // nothing judged ever: nothing to catch up
  for (const i of [0, 1, 3, 4]) judge(dir, T0 + i * M); // minute 2 queued but never judged
  // Down after minute 4; the first live kline is minute 8's.
  expect(missedMinutes(dir, "BTCUSDT", T0 + 8 * M)).toEqual([2, 5, 6, 7].map((i) => T0 + i * M));
  // A day's cap: only the newest minutes of a long downtime.
  const long = missedMinutes(dir, "BTCUSDT", T0 + 3 * MISSED_MAX_MINUTES * M);
  expect(long.length).toBe(MISSED_MAX_MINUTES);
  expect(long.at(-1)).toBe(T0 + (3 * MISSED_MAX_MINUTES - 1) * M);
});
