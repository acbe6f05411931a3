import { describe, expect, test } from "bun:test";
import type { Sample } from "./sampler.ts";
import { warmupMs } from "./verdict.ts";

const at = (tMin: number, hotFill: number) => ({ tMs: tMin * 60_000, hotFill }) as Sample;
const H = 3_600_000;

describe("soak warm-up", () => {
  test("the fixed warm-up, or later when the hot windows fill later, never past half the run", () => {
    const filling = (fullAtMin: number) =>
      Array.from({ length: 60 }, (_, m) => at(m, Math.min(1, m / fullAtMin)));
    expect(warmupMs(H, filling(5))).toBe(600_000); // full before 10 min: the fixed 10 min
    expect(warmupMs(H, filling(17))).toBe(17 * 60_000); // full at 17 min: steady state from there
    expect(warmupMs(H, filling(1000))).toBe(H / 2); // never full: capped at half the run
    expect(warmupMs(H, [at(1, Number.NaN)])).toBe(H / 2); // K2 without the metric: capped too
    expect(warmupMs(120_000, [at(0.1, 1)])).toBe(30_000); // smoke, windows full early: a quarter of the run
  });
});
