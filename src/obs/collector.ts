/**
 * A full, synchronous garbage collection of this thread's heap every K2_GC_INTERVAL_MS.
 *
 * Why: JSC collects when its own heuristics say so, and over an hour of steady ingest they let
 * more and more garbage wait between collections. In the 1-hour soaks RSS climbed 11.8-18.9 MB/h
 * while the same K2 measured after a full collection every 2 minutes stayed flat (351-356 MB
 * from minute 16 to 30, live JS objects 7.3-7.7 MB): the slope was uncollected garbage, not
 * live data. The writer worker does the same after each merge (sink/parquet/worker.ts).
 * Cost: one pause of ~15 ms (a heap like K2's: 120 k objects, 240 MB of ArrayBuffers), counted
 * in k2_gc_full_seconds_total so its share of the event loop is visible.
 */
import type { Registry } from "./metrics.ts";

export class FullCollector {
  runs = 0;
  totalMs = 0;
  maxMs = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `intervalMs` 0: never (the collector only reports zeros). */
  constructor(readonly intervalMs: number) {}

  start(): void {
    if (this.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => this.collect(), this.intervalMs);
    // A process with nothing else to do may exit: the collection is housekeeping, not work.
    this.#timer.unref();
  }

  /** One full collection now; returns its duration in ms. */
  collect(): number {
    const t = performance.now();
    Bun.gc(true);
    const ms = performance.now() - t;
    this.runs++;
    this.totalMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
    return ms;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  register(reg: Registry): void {
    reg.counter("k2_gc_full_total", "full garbage collections run by K2_GC_INTERVAL_MS", () => this.runs);
    reg.counter(
      "k2_gc_full_seconds_total",
      "time the event loop spent in those collections",
      () => this.totalMs / 1000,
    );
    reg.gauge("k2_gc_full_max_seconds", "the longest of those collections", () => this.maxMs / 1000);
  }
}
