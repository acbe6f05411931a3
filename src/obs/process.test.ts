/**
 * The event-loop lag histogram: every sample of the real 20 ms timer lands in it, so a reader that
 * differences two scrapes gets the lag of exactly the span between them.
 */
import { expect, test } from "bun:test";
import { parsePrometheus, sample } from "../../test/support/prometheus.ts";
import { Registry } from "./metrics.ts";
import { registerProcessMetrics } from "./process.ts";

/** The histogram's cumulative bucket counts, by upper bound as rendered ("0.1", "+Inf"). */
function buckets(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of parsePrometheus(text).samples)
    if (x.name === "nodejs_eventloop_lag_seconds_bucket") out.set(x.labels.le!, x.value);
  return out;
}

test("a 150 ms block of the event loop is a sample over 0.1 s in the lag histogram", async () => {
  const reg = new Registry();
  const watch = registerProcessMetrics(reg, { lagWindowMs: 10_000, gcIntervalMs: 0 });
  try {
    await Bun.sleep(200);
    const before = buckets(reg.render());
    const t0 = performance.now();
    while (performance.now() - t0 < 150) {
      // hold the loop: the timer's next sample is at least 130 ms late
    }
    await Bun.sleep(200);
    const after = buckets(reg.render());
    const total = after.get("+Inf")! - before.get("+Inf")!;
    const upTo100ms = after.get("0.1")! - before.get("0.1")!;
    expect(total).toBeGreaterThanOrEqual(5); // ~350 ms of 20 ms samples, however late
    // The block's sample; a starved CI machine may add another, never take this one away.
    expect(total - upTo100ms).toBeGreaterThanOrEqual(1);
    expect(total - upTo100ms).toBeLessThan(total);
    expect(sample(parsePrometheus(reg.render()), "nodejs_eventloop_lag_seconds_count")).toBe(
      after.get("+Inf")!,
    );
  } finally {
    watch.stop();
  }
});
