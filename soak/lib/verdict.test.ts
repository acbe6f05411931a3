import { describe, expect, test } from "bun:test";
import type { Sample } from "./sampler.ts";
import { buildVerdict, warmupMs } from "./verdict.ts";

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

describe("soak memory slopes", () => {
  test("each part is fitted over its own reported samples: RSS after a full collection starts NaN", () => {
    // One sample a minute for an hour, windows full: RSS rises 6 MB/h, what survives collection
    // 2 MB/h but is unreported until minute 20 (a K2 whose first collection came late).
    const samples = Array.from({ length: 61 }, (_, m) => {
      const mem = {
        rssAnon: 300,
        rssFile: 80,
        jsObjects: 10,
        duckdb: 0,
        parquetWorkerHeap: 5,
        hotWindows: 160,
      };
      return {
        tMs: m * 60_000,
        hotFill: 1,
        rssMB: 380 + (6 * m) / 60,
        heapMB: 200,
        lagP99Ms: 1,
        lagMaxMs: 2,
        mem: { ...mem, anonNotHot: 140, rssAfterGc: m < 20 ? Number.NaN : 360 + (2 * m) / 60 },
      } as unknown as Sample;
    });
    const v = buildVerdict({
      args: {},
      durationMs: H,
      samples,
      probes: [],
      faults: [],
      uptime: { percent: 100, observedMs: H, downMs: 0, excludedMs: 0 },
      finish: undefined,
      crashed: null,
      simStats: null,
    });
    expect(v.rssSlopeMBPerHour).toBeCloseTo(6, 6);
    expect(v.memorySlopesMBPerHour.rssAfterGc).toBeCloseTo(2, 6);
    expect(v.memorySlopesMBPerHour.jsObjects).toBe(0);
  });
});
