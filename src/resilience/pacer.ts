/**
 * Rate pacing primitives. No timers inside: every method takes `nowMs` (or reads the injected
 * clock), answers "may I now?" or "how long until I may?", and the caller does the waiting.
 * Memory is fixed at construction (a ring of `limit` timestamps), whatever the traffic.
 *
 * Binance limits these serve (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
 * - "There is a limit of 300 connections per attempt every 5 minutes per IP" → {@link ConnectionPacer};
 * - "WebSocket connections have a limit of 5 incoming messages per second" (ping/pong/subscribe
 *   frames we send; exceeding it disconnects, repeated offenders are banned) → {@link messageLimiter};
 * - at most one new connection per second (K2_CONNECT_MIN_INTERVAL_MS), which also bounds the
 *   ~0 ms delays full-jitter backoff can produce.
 *
 * Clock: default `performance.now` (monotonic). Wall time (Date.now) can step back under NTP and
 * would let a window hold entries "from the future". Use one clock per instance.
 */

export type Clock = () => number;
const monotonic: Clock = () => performance.now();

export const BINANCE_WS_CONNECTIONS_PER_WINDOW = 300;
export const BINANCE_WS_CONNECTION_WINDOW_MS = 5 * 60_000;
export const BINANCE_WS_MESSAGES_PER_SECOND = 5;
export const CONNECT_MIN_INTERVAL_MS = 1_000;

/**
 * Token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. Allows bursts up
 * to `capacity` and a sustained rate of `refillPerSecond` (e.g. a REST weight budget per minute).
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerMs: number;
  readonly #now: Clock;
  #tokens: number;
  #lastMs: number;
  /** tryTake calls refused, for metrics. */
  refused = 0;

  constructor(opts: { capacity: number; refillPerSecond: number; now?: Clock; startFull?: boolean }) {
    if (!(opts.capacity > 0)) throw new RangeError(`token bucket capacity must be > 0, got ${opts.capacity}`);
    if (!(opts.refillPerSecond > 0)) {
      throw new RangeError(`token bucket refillPerSecond must be > 0, got ${opts.refillPerSecond}`);
    }
    this.capacity = opts.capacity;
    this.refillPerMs = opts.refillPerSecond / 1000;
    this.#now = opts.now ?? monotonic;
    this.#tokens = opts.startFull === false ? 0 : opts.capacity;
    this.#lastMs = this.#now();
  }

  /** Tokens available at `nowMs` (fractional). */
  available(nowMs: number = this.#now()): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  /** Takes `n` tokens if all are there; otherwise takes none. */
  tryTake(n: number, nowMs: number = this.#now()): boolean {
    this.#refill(nowMs);
    // The epsilon absorbs float drift so waiting exactly msUntil(n) is always enough.
    if (this.#tokens + 1e-9 >= n) {
      this.#tokens = Math.max(0, this.#tokens - n);
      return true;
    }
    this.refused++;
    return false;
  }

  /** Whole ms until `n` tokens are available: 0 if now, Infinity if `n` exceeds the capacity. */
  msUntil(n: number, nowMs: number = this.#now()): number {
    if (n > this.capacity) return Number.POSITIVE_INFINITY;
    this.#refill(nowMs);
    const missing = n - this.#tokens;
    return missing <= 1e-9 ? 0 : Math.ceil(missing / this.refillPerMs);
  }

  #refill(nowMs: number): void {
    // A clock that steps back adds nothing (and does not move the reference back).
    if (nowMs <= this.#lastMs) return;
    this.#tokens = Math.min(this.capacity, this.#tokens + (nowMs - this.#lastMs) * this.refillPerMs);
    this.#lastMs = nowMs;
  }
}

/**
 * Sliding-window log limiter: at most `limit` events in any `windowMs`. An event at time t counts
 * while now < t + windowMs, so with the window full the next event may go at oldest + windowMs
 * exactly. Exact (no bucket approximation), O(1) per call, memory = `limit` numbers.
 */
export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #now: Clock;
  readonly #ring: Float64Array;
  #head = 0; // index of the oldest stored timestamp
  #size = 0;
  /** tryAcquire calls refused. */
  refused = 0;
  /** Events `record`ed while the window was already full (the caller went over the limit). */
  overLimit = 0;

  constructor(opts: { limit: number; windowMs: number; now?: Clock }) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) {
      throw new RangeError(`sliding window limit must be an integer ≥ 1, got ${opts.limit}`);
    }
    if (!(opts.windowMs > 0))
      throw new RangeError(`sliding window windowMs must be > 0, got ${opts.windowMs}`);
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.#now = opts.now ?? monotonic;
    this.#ring = new Float64Array(opts.limit);
  }

  /** ms until one more event is allowed; 0 if now. */
  msUntilNext(nowMs: number = this.#now()): number {
    if (this.#size < this.limit) return 0;
    const oldest = this.#ring[this.#head]!;
    return Math.max(0, oldest + this.windowMs - nowMs);
  }

  /** Records the event and returns true if allowed now; otherwise records nothing. */
  tryAcquire(nowMs: number = this.#now()): boolean {
    if (this.msUntilNext(nowMs) > 0) {
      this.refused++;
      return false;
    }
    this.#push(nowMs);
    return true;
  }

  /**
   * Records an event that happened regardless (the caller checked msUntilNext first, or could not
   * wait). If the window was full it is counted in `overLimit`, and the oldest entry is replaced.
   */
  record(nowMs: number = this.#now()): void {
    if (this.msUntilNext(nowMs) > 0) this.overLimit++;
    this.#push(nowMs);
  }

  /** Events inside the window ending at `nowMs`. */
  count(nowMs: number = this.#now()): number {
    let n = 0;
    for (let i = 0; i < this.#size; i++) {
      const t = this.#ring[(this.#head + i) % this.limit]!;
      if (t + this.windowMs > nowMs) n++;
    }
    return n;
  }

  #push(nowMs: number): void {
    if (this.#size < this.limit) {
      this.#ring[(this.#head + this.#size) % this.limit] = nowMs;
      this.#size++;
    } else {
      // Full: the oldest slot is overwritten and the next one becomes the oldest.
      this.#ring[this.#head] = nowMs;
      this.#head = (this.#head + 1) % this.limit;
    }
  }
}

/** 5 outgoing messages per second per connection (Binance). One instance per connection. */
export function messageLimiter(now?: Clock): SlidingWindowLimiter {
  return new SlidingWindowLimiter({ limit: BINANCE_WS_MESSAGES_PER_SECOND, windowMs: 1_000, now });
}

export interface ConnectionPacerOptions {
  /** Default 300 (K2_CONNECT_MAX_PER_5MIN). */
  readonly maxPerWindow?: number;
  /** Default 5 min. */
  readonly windowMs?: number;
  /** Default 1000 ms (K2_CONNECT_MIN_INTERVAL_MS); 0 disables the spacing. */
  readonly minIntervalMs?: number;
  readonly now?: Clock;
}

export interface ConnectionPacerStats {
  readonly inWindow: number;
  readonly refused: number;
  readonly overLimit: number;
  readonly tooSoon: number;
}

/**
 * Paces new WebSocket connections for the whole process (share one instance across shards, as the
 * limit is per IP): ≥ `minIntervalMs` between attempts and ≤ `maxPerWindow` attempts per window.
 * Fits `ConnectGate` in source/binance (msUntilNext + record).
 */
export class ConnectionPacer {
  readonly minIntervalMs: number;
  readonly #window: SlidingWindowLimiter;
  readonly #now: Clock;
  #lastMs = Number.NEGATIVE_INFINITY;
  #tooSoon = 0;

  constructor(opts: ConnectionPacerOptions = {}) {
    this.minIntervalMs = opts.minIntervalMs ?? CONNECT_MIN_INTERVAL_MS;
    if (!(this.minIntervalMs >= 0))
      throw new RangeError(`minIntervalMs must be ≥ 0, got ${opts.minIntervalMs}`);
    this.#now = opts.now ?? monotonic;
    this.#window = new SlidingWindowLimiter({
      limit: opts.maxPerWindow ?? BINANCE_WS_CONNECTIONS_PER_WINDOW,
      windowMs: opts.windowMs ?? BINANCE_WS_CONNECTION_WINDOW_MS,
      now: this.#now,
    });
  }

  /** ms until the next attempt may start: the later of the spacing and the window. */
  msUntilNext(nowMs: number = this.#now()): number {
    const spacing = Math.max(0, this.#lastMs + this.minIntervalMs - nowMs);
    return Math.max(spacing, this.#window.msUntilNext(nowMs));
  }

  /** Starts an attempt if allowed now. */
  tryAcquire(nowMs: number = this.#now()): boolean {
    if (this.msUntilNext(nowMs) > 0) {
      this.#window.refused++;
      return false;
    }
    this.record(nowMs);
    return true;
  }

  /** An attempt started (call right after msUntilNext returned 0). */
  record(nowMs: number = this.#now()): void {
    if (nowMs < this.#lastMs + this.minIntervalMs) this.#tooSoon++;
    this.#lastMs = Math.max(this.#lastMs, nowMs);
    this.#window.record(nowMs);
  }

  /**
   * Attempts in the current window, refusals, and attempts recorded anyway over the window limit
   * (`overLimit`) or closer than `minIntervalMs` to the previous one (`tooSoon`): both should stay 0.
   */
  stats(nowMs: number = this.#now()): ConnectionPacerStats {
    const w = this.#window;
    return { inWindow: w.count(nowMs), refused: w.refused, overLimit: w.overLimit, tooSoon: this.#tooSoon };
  }
}
