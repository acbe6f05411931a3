import { describe, expect, test } from "bun:test";
import { parsePrometheus, sample } from "../../test/support/prometheus.ts";
import { LoopLagMonitor } from "./loop-lag.ts";
import { Registry } from "./metrics.ts";

describe("Registry", () => {
  test("renders counters, labelled children, gauges and histograms that parse back", () => {
    const r = new Registry();
    const c = r.counter("k2_frames_total", "frames");
    c.inc();
    c.inc(4);
    const dl = r.counter("k2_dead_letters_total", 'dead letters "by" reason');
    dl.with({ reason: "truncated" }).inc(2);
    dl.with({ reason: 'we"ird\\x' }).inc();
    r.gauge("k2_ring_fill_ratio", "fill").set(0.25);
    r.gauge("k2_pulled", "collected at render", () => 42);
    const h = r.histogram("k2_latency_seconds", "latency", [0.1, 0.01, 1]);
    for (const v of [0.005, 0.05, 0.05, 0.5, 5]) h.observe(v);

    const p = parsePrometheus(r.render());
    expect(p.types.get("k2_frames_total")).toBe("counter");
    expect(p.types.get("k2_latency_seconds")).toBe("histogram");
    expect(sample(p, "k2_frames_total")).toBe(5);
    expect(sample(p, "k2_dead_letters_total", { reason: "truncated" })).toBe(2);
    expect(sample(p, "k2_dead_letters_total", { reason: 'we"ird\\x' })).toBe(1);
    expect(sample(p, "k2_ring_fill_ratio")).toBe(0.25);
    expect(sample(p, "k2_pulled")).toBe(42);
    // Buckets are cumulative and sorted even though they were given unsorted.
    expect(sample(p, "k2_latency_seconds_bucket", { le: "0.01" })).toBe(1);
    expect(sample(p, "k2_latency_seconds_bucket", { le: "0.1" })).toBe(3);
    expect(sample(p, "k2_latency_seconds_bucket", { le: "1" })).toBe(4);
    expect(sample(p, "k2_latency_seconds_bucket", { le: "+Inf" })).toBe(5);
    expect(sample(p, "k2_latency_seconds_count")).toBe(5);
    expect(sample(p, "k2_latency_seconds_sum")).toBeCloseTo(5.605, 9);
  });

  test("a value on a bucket boundary counts in that bucket (le = less or equal)", () => {
    const r = new Registry();
    const h = r.histogram("h", "h", [1, 2]);
    h.observe(1);
    h.observe(2);
    const p = parsePrometheus(r.render());
    expect(sample(p, "h_bucket", { le: "1" })).toBe(1);
    expect(sample(p, "h_bucket", { le: "2" })).toBe(2);
  });

  test("rejects duplicate and invalid names and bad buckets", () => {
    const r = new Registry();
    r.counter("a", "a");
    expect(() => r.counter("a", "again")).toThrow(/twice/);
    expect(() => r.gauge("1bad", "x")).toThrow(/invalid metric name/);
    expect(() => r.histogram("h", "x", [])).toThrow(/distinct buckets/);
    expect(() => r.histogram("h2", "x", [1, 1])).toThrow(/distinct buckets/);
  });
});

describe("LoopLagMonitor", () => {
  test("quantiles over the recorded window", () => {
    const m = new LoopLagMonitor(10, 1000); // 100 samples
    for (let i = 1; i <= 100; i++) m.record(i);
    expect(m.quantile(0.5)).toBe(51);
    expect(m.quantile(0.99)).toBe(100);
    expect(m.max).toBe(100);
    // The window forgets old samples.
    for (let i = 0; i < 100; i++) m.record(1);
    expect(m.quantile(0.99)).toBe(1);
    expect(m.max).toBe(100);
  });

  test("measures a real blocked loop", async () => {
    const m = new LoopLagMonitor(5, 1000);
    m.start();
    await Bun.sleep(20);
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // Block the event loop on purpose.
    }
    await Bun.sleep(20);
    m.stop();
    expect(m.max).toBeGreaterThanOrEqual(40);
  });
});
