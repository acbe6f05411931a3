/**
 * A full, synchronous garbage collection of this thread's heap every K2_GC_INTERVAL_MS.
 *
 * Why: JSC collects when its own heuristics say so, and over an hour of steady ingest garbage
 * waited longer between its collections: the soaks' main-thread JS objects grew 4.2-5.1 MB/h.
 * With a full collection every minute they grew 0.98 MB/h (1-hour soak, 2026-12-05) and max RSS
 * fell from 401.5 to 383.8 MB. It does not explain all of the soaks' RSS slope: what still grows
 * (~11 MB/h then) is outside the JS heap (docs/RUNBOOK.md § Memory). The writer worker collects
 * after each merge for the same reason (sink/parquet/worker.ts).
 * Cost: in that soak the first 18 collections took 24 ms each on average, the longest 38 ms;
 * k2_gc_full_seconds_total counts them, so their share of the event loop is visible.
 * RSS read right after each collection is what a leak looks like: memory that survives it. RSS
 * at any other instant also holds garbage and a merge's buffers, which come and go within
 * seconds and make the soaks' raw RSS slope swing (docs/RUNBOOK.md § Memory).
 */
import type { Registry } from "./metrics.ts";

export class FullCollector {
  runs = 0;
  totalMs = 0;
  maxMs = 0;
  /** process RSS right after the last collection; NaN before the first. */
  rssAfterBytes = Number.NaN;
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
    this.rssAfterBytes = process.memoryUsage.rss();
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
    reg.gauge(
      "k2_memory_rss_after_full_gc_bytes",
      "process RSS right after the last of those collections (NaN before the first): its trend is what survives collection",
      () => this.rssAfterBytes,
    );
  }
}
