import { expect, test } from "bun:test";
import { Histogram } from "../src/obs/metrics.ts";
import { LAG_BUCKETS_S } from "../src/obs/process.ts";
import { type LagReading, lagWindows } from "./lag-windows.ts";

/** A 20 ms timer's samples (ms) for `seconds`, read once a second as a scraper would. */
function run(seconds: number, lagAt: (tMs: number) => number, h = new Histogram("lag", "", LAG_BUCKETS_S)) {
  const readings: LagReading[] = [];
  const read = (atMs: number) => readings.push({ atMs, cum: h.cumulative() });
  read(0);
  for (let t = 20; t <= seconds * 1000; t += 20) {
    h.observe(lagAt(t) / 1000);
    if (t % 1000 === 0) read(t);
  }
  return readings;
}

test("a window's p99 is its 496th of 500 samples: 4 late ones are not it, 5 are", () => {
  const fewEarly = run(20, (t) => (t <= 60 ? 200 : 1)); // 3 of the first window's 500
  expect(lagWindows(LAG_BUCKETS_S, fewEarly)).toEqual({
    windows: 11,
    worstP99UpToMs: 1,
    worstStartS: 0,
    minSamples: 500,
  });
  const fourLate = run(20, (t) => (t > 14_000 && t <= 14_080 ? 45 : 3));
  expect(lagWindows(LAG_BUCKETS_S, fourLate)?.worstP99UpToMs).toBe(5);
  const fiveLate = run(20, (t) => (t > 14_000 && t <= 14_100 ? 45 : 3));
  // The first window that holds them starts at 5 s (5..15 s).
  expect(lagWindows(LAG_BUCKETS_S, fiveLate)).toMatchObject({ worstP99UpToMs: 50, worstStartS: 5 });
});

test("samples before the first reading do not count; a run shorter than the window is one window", () => {
  const h = new Histogram("lag", "", LAG_BUCKETS_S);
  for (let i = 0; i < 2000; i++) h.observe(0); // idle before the run: would hide its lag
  const short = run(4, (t) => (t % 200 === 0 ? 45 : 2), h); // 1 in 10 samples late
  expect(lagWindows(LAG_BUCKETS_S, short)).toEqual({
    windows: 1,
    worstP99UpToMs: 50,
    worstStartS: 0,
    minSamples: 200,
  });
  expect(lagWindows(LAG_BUCKETS_S, short.slice(0, 1))).toBeUndefined();
});
