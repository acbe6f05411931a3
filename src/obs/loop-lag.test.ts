/**
 * The lag quantile the degradation manager acts on: undefined (NaN) until the window holds
 * enough samples for the quantile to differ from the maximum, so one pause early in a process's
 * life does not read as a p99 of seconds; sustained lag still does.
 */
import { expect, test } from "bun:test";
import { LoopLagMonitor } from "./loop-lag.ts";

test("p99 of fewer than 100 samples is not measured: one early pause is not a p99", () => {
  const m = new LoopLagMonitor(20, 10_000);
  for (let i = 0; i < 60; i++) m.record(1);
  m.record(1500); // the process was frozen for 1.5 s
  expect(m.quantile(0.99)).toBe(1500); // what the old decision read: the maximum
  expect(m.measuredQuantile(0.99)).toBeNaN();
  for (let i = 0; i < 100; i++) m.record(1);
  expect(m.measuredQuantile(0.99)).toBe(1); // one pause in 161 samples is not the top 1 %
});

test("sustained lag is measured as such", () => {
  const m = new LoopLagMonitor(20, 10_000);
  for (let i = 0; i < 400; i++) m.record(i % 20 === 0 ? 800 : 2); // every 20th tick 800 ms late
  expect(m.measuredQuantile(0.99)).toBe(800);
  expect(m.measuredQuantile(0.5)).toBe(2);
});
