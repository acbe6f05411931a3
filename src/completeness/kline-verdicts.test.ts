import { afterEach, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendVerdict, klineVerdictPath, type MinuteVerdict, readVerdicts } from "./kline-verdicts.ts";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const minute = (open_time_us: number, verdict: MinuteVerdict["verdict"]): MinuteVerdict => ({
  symbol: "BTCUSDT",
  open_time_us,
  first_id: 1,
  last_id: 10,
  trades: 10,
  stored: 10,
  verdict,
  detail: "",
  checked_at_us: open_time_us + 61_000_000,
});

test("verdicts come back per minute, the latest line winning; a torn last line is skipped and counted", () => {
  dir = mkdtempSync(join(tmpdir(), "k2-verdicts-"));
  const t0 = Date.UTC(2025, 0, 2) * 1000;
  appendVerdict(dir, minute(t0 + 60_000_000, "verified"));
  appendVerdict(dir, minute(t0, "unverified"));
  appendVerdict(dir, minute(t0, "repaired")); // judged again after its repair
  appendFileSync(klineVerdictPath(dir, "BTCUSDT", "2025-01-02"), '{"symbol":"BTCUSDT","open_ti');
  const r = readVerdicts(dir, "BTCUSDT", "2025-01-02");
  expect(r.skipped).toBe(1);
  expect(r.minutes.map((m) => [m.open_time_us - t0, m.verdict])).toEqual([
    [0, "repaired"],
    [60_000_000, "verified"],
  ]);
  expect(readVerdicts(dir, "BTCUSDT", "2025-01-03")).toEqual({ minutes: [], skipped: 0 });
});
