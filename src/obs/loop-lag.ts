/**
 * Event-loop lag: a timer asks to run every `intervalMs`; how late it fires is the lag.
 * Samples live in a fixed ring covering `windowMs`, so p50/p99 describe the recent past only.
 * `onSample` also sees every sample (ms), e.g. a histogram that outside readers window themselves.
 */
export class LoopLagMonitor {
  readonly #samples: Float64Array;
  #n = 0;
  #next = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  max = 0;

  constructor(
    readonly intervalMs = 20,
    windowMs = 10_000,
    private readonly onSample?: (lagMs: number) => void,
  ) {
    this.#samples = new Float64Array(Math.max(8, Math.ceil(windowMs / intervalMs)));
  }

  start(): void {
    if (this.#timer) return;
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.record(Math.max(0, now - this.#last - this.intervalMs));
      this.#last = now;
    }, this.intervalMs);
    // The monitor must never keep the process alive on its own.
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  record(lagMs: number): void {
    this.#samples[this.#next] = lagMs;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#n < this.#samples.length) this.#n++;
    if (lagMs > this.max) this.max = lagMs;
    this.onSample?.(lagMs);
  }

  /**
   * Quantile q of the window, or NaN while there are fewer samples than it needs to mean
   * anything (1 / (1 − q): 100 for p99). With fewer, "p99" is just the maximum, and one pause
   * (a GC, a frozen process, a VM stall) early in a process's life would read as a p99 of seconds
   * and push the degradation manager to CIRCUIT_BREAK. Decisions use this; metrics show quantile().
   */
  measuredQuantile(q: number): number {
    return this.#n < Math.ceil(1 / (1 - q) - 1e-9) ? Number.NaN : this.quantile(q);
  }

  /** Quantile q in [0,1] of the samples in the window (0 when none yet). */
  quantile(q: number): number {
    if (this.#n === 0) return 0;
    const s = this.#samples.slice(0, this.#n).sort();
    return s[Math.min(this.#n - 1, Math.floor(q * this.#n))]!;
  }
}
