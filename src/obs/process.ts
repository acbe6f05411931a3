/** Process metrics: RSS, heap, event-loop lag, uptime, open file descriptors; the full collector. */
import { readdirSync } from "node:fs";
import { FullCollector } from "./collector.ts";
import { LoopLagMonitor } from "./loop-lag.ts";
import { registerMemoryMetrics } from "./memory.ts";
import type { Registry } from "./metrics.ts";

/** Open fds from /proc (Linux); -1 where /proc is not available. */
export function openFdCount(): number {
  try {
    return readdirSync("/proc/self/fd").length - 1; // minus the fd readdir itself opened
  } catch {
    return -1;
  }
}

export interface ProcessWatchOptions {
  /** K2_LAG_WINDOW_MS */
  readonly lagWindowMs: number;
  /** K2_GC_INTERVAL_MS (0: no full collections of K2's own). */
  readonly gcIntervalMs: number;
}

/** What a process runs for its own health; stopped with the role that started it. */
export interface ProcessWatch {
  readonly lag: LoopLagMonitor;
  stop(): void;
}

/**
 * Upper bounds (seconds) of the event-loop lag histogram's buckets. Why a histogram beside the
 * windowed p50/p99 gauges: a reader can take any window's quantile from two scrapes (Prometheus'
 * histogram_quantile over a rate), and a window that lies wholly inside a run of interest, where
 * the gauge's window also holds what came before it and, in a process's first seconds, so few
 * samples that its "p99" is their maximum. Fine steps up to 100 ms: where lag targets are set.
 */
export const LAG_BUCKETS_S = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

export function registerProcessMetrics(reg: Registry, opts: ProcessWatchOptions): ProcessWatch {
  const started = performance.now();
  const lagHistogram = reg.histogram(
    "nodejs_eventloop_lag_seconds",
    "event-loop lag of every sample since start (a 20 ms timer)",
    LAG_BUCKETS_S,
  );
  const lag = new LoopLagMonitor(20, opts.lagWindowMs, (ms) => lagHistogram.observe(ms / 1000));
  lag.start();
  const collector = new FullCollector(opts.gcIntervalMs);
  collector.start();
  collector.register(reg);
  reg.gauge("process_resident_memory_bytes", "resident set size", () => process.memoryUsage.rss());
  reg.gauge("process_heap_used_bytes", "JS heap in use", () => process.memoryUsage().heapUsed);
  reg.gauge("process_heap_total_bytes", "JS heap reserved", () => process.memoryUsage().heapTotal);
  registerMemoryMetrics(reg);
  reg.gauge("process_uptime_seconds", "seconds since start", () => (performance.now() - started) / 1000);
  reg.gauge("process_open_fds", "open file descriptors", openFdCount);
  reg.gauge(
    "nodejs_eventloop_lag_p50_seconds",
    "event-loop lag p50 over the window",
    () => lag.quantile(0.5) / 1000,
  );
  reg.gauge(
    "nodejs_eventloop_lag_p99_seconds",
    "event-loop lag p99 over the window",
    () => lag.quantile(0.99) / 1000,
  );
  reg.gauge("nodejs_eventloop_lag_max_seconds", "largest event-loop lag since start", () => lag.max / 1000);
  return {
    lag,
    stop() {
      lag.stop();
      collector.stop();
    },
  };
}
