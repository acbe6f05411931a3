import { describe, expect, test } from "bun:test";
import { archiveMonthDays as daysOfMonth } from "../archive/index.ts";
import { dailyJobsOf, planJobs } from "./plan.ts";

const NOW = Date.UTC(2025, 2, 15, 12); // 2025-03-15: March is the current month
const files = (period: "auto" | "daily" | "monthly", from: string, to: string) =>
  planJobs(["BTCUSDT"], ["trades"], from, to, { period, nowMs: NOW }).map(
    (j) => `${j.file.period} ${j.date}${j.fallback ? " +fallback" : ""} ${j.days.length}`,
  );

describe("plan: which archive files a range reads", () => {
  test("calendar months: 28/29/30/31 days", () => {
    expect(daysOfMonth("2025-02").length).toBe(28);
    expect(daysOfMonth("2024-02").at(-1)).toBe("2024-02-29");
    expect(daysOfMonth("2024-12")[0]).toBe("2024-12-01");
    expect(daysOfMonth("2024-12").at(-1)).toBe("2024-12-31");
  });

  test("auto: whole past months monthly (with fallback), partial and current months daily", () => {
    expect(files("auto", "2025-01-30", "2025-03-02")).toEqual([
      "daily 2025-01-30 1",
      "daily 2025-01-31 1",
      "monthly 2025-02 +fallback 28",
      "daily 2025-03-01 1",
      "daily 2025-03-02 1",
    ]);
    // A month cut by --to is partial: daily.
    expect(files("auto", "2025-02-01", "2025-02-27")).toHaveLength(27);
    // December 2024 (ms times) and January 2025 (µs) are two monthly files.
    expect(files("auto", "2024-12-01", "2025-01-31")).toEqual([
      "monthly 2024-12 +fallback 31",
      "monthly 2025-01 +fallback 31",
    ]);
  });

  test("the current month is daily even when the range covers all of it", () => {
    expect(files("auto", "2025-03-01", "2025-03-31")).toHaveLength(31);
  });

  test("monthly: no fallback; daily: never a monthly file", () => {
    expect(files("monthly", "2025-02-01", "2025-02-28")).toEqual(["monthly 2025-02 28"]);
    expect(files("daily", "2025-02-01", "2025-02-28")).toHaveLength(28);
    expect(planJobs(["BTCUSDT"], ["trades"], "2025-02-01", "2025-02-28", { nowMs: NOW })).toHaveLength(28);
  });

  test("a monthly job's fallback is its days as daily jobs, same table and symbol", () => {
    const [m] = planJobs(["ETHUSDT"], ["agg_trades"], "2025-02-01", "2025-02-28", {
      period: "auto",
      nowMs: NOW,
    });
    const days = dailyJobsOf(m!);
    expect(days.map((d) => d.file.date)).toEqual(daysOfMonth("2025-02"));
    expect(
      days.every((d) => d.file.period === "daily" && d.file.dataset === "aggTrades" && !d.fallback),
    ).toBe(true);
  });
});
