/**
 * Reconnect backoff: exponential ceiling with full jitter, and never giving up.
 *
 * The old system promised "1 s → 128 s" but shipped 5 s doubling to 60 s, no jitter, and gave up
 * after 10 tries while the process stayed "alive" (k2-reference.md). Here:
 * - ceiling(attempt) = min(capMs, baseMs · 2^attempt): 1, 2, 4, … 64, 128, 128, … s by default;
 * - delay = uniform integer in [0, ceiling] ("full jitter", AWS Architecture Blog, "Exponential
 *   Backoff And Jitter", 2015): shards that lost their sockets together do not come back together;
 * - there is no attempt limit: a market-data source that stops retrying is a silent outage;
 * - `reset()` after a healthy period; {@link HealthyResetTracker} decides when.
 *
 * Full jitter can return ~0 ms. That is intended: the spacing between new connections is the
 * pacer's job (`ConnectionPacer`: ≥ 1 s apart, ≤ 300 per 5 min per IP, Binance WebSocket limits),
 * so the caller waits `max(backoff.nextDelayMs(), pacer.msUntilNext(now))`.
 */

/** A source of uniform numbers in [0, 1), like `Math.random`. Injected so tests are repeatable. */
export type RandomSource = () => number;

/** Defaults match config keys K2_RECONNECT_BASE_MS / K2_RECONNECT_MAX_MS. */
export const RECONNECT_BASE_DELAY_MS = 1_000;
export const RECONNECT_MAX_DELAY_MS = 128_000;

/**
 * mulberry32: a tiny seeded PRNG (public domain, Tommy Ettinger). Good enough for jitter and for
 * tests that need the same "random" schedule every run; not for anything cryptographic.
 */
export function mulberry32(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BackoffOptions {
  /** Ceiling of the first attempt (attempt 0). Default 1000 ms. */
  readonly baseMs?: number;
  /** Largest ceiling. Default 128000 ms. */
  readonly capMs?: number;
  /** Default `Math.random`. */
  readonly random?: RandomSource;
}

// 2^40 · 1 ms is ~35 years: past this the ceiling is the cap anyway, and the exponent stays finite.
const MAX_EXPONENT = 40;

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly #random: RandomSource;
  #attempt = 0;
  #lastDelayMs = 0;

  constructor(opts: BackoffOptions = {}) {
    const baseMs = opts.baseMs ?? RECONNECT_BASE_DELAY_MS;
    const capMs = opts.capMs ?? RECONNECT_MAX_DELAY_MS;
    if (!Number.isFinite(baseMs) || baseMs <= 0) {
      throw new RangeError(`backoff baseMs must be a positive number, got ${baseMs}`);
    }
    if (!Number.isFinite(capMs) || capMs < baseMs) {
      throw new RangeError(`backoff capMs must be a number ≥ baseMs (${baseMs}), got ${capMs}`);
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.#random = opts.random ?? Math.random;
  }

  /** Delays handed out since the last reset; the next delay uses this attempt's ceiling. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The un-jittered ceiling the next `nextDelayMs()` draws under: min(cap, base · 2^attempt). */
  get ceilingMs(): number {
    return ceilingFor(this.baseMs, this.capMs, this.#attempt);
  }

  /** The delay most recently returned (0 before the first), for logs and metrics. */
  get lastDelayMs(): number {
    return this.#lastDelayMs;
  }

  /** Uniform integer delay in [0, ceilingMs], then the attempt advances. Never throws, never ends. */
  nextDelayMs(): number {
    const ceiling = this.ceilingMs;
    const r = this.#random();
    // Clamp: a bad random source (r ≥ 1, NaN) must not break the [0, ceiling] guarantee.
    const u = r >= 0 && r < 1 ? r : 0;
    const delay = Math.min(ceiling, Math.floor(u * (ceiling + 1)));
    this.#attempt++;
    this.#lastDelayMs = delay;
    return delay;
  }

  /** Back to the first ceiling: call after a healthy period, not on every successful open. */
  reset(): void {
    this.#attempt = 0;
  }
}

export function ceilingFor(baseMs: number, capMs: number, attempt: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, MAX_EXPONENT));
}

/**
 * Resets a backoff only after a connection has stayed up `healthyAfterMs`. Resetting on open
 * would let a server that accepts and immediately drops us (bans, 24 h cut loops, a bad stream
 * name) pull us into a 1-second reconnect loop and through Binance's 300-per-5-min budget.
 *
 * The caller reports events and polls `check(nowMs)` (e.g. on each frame or health tick); no timers.
 */
export class HealthyResetTracker {
  readonly healthyAfterMs: number;
  readonly #backoff: Pick<Backoff, "reset">;
  #connectedSinceMs: number | null = null;
  #resetDone = false;
  #resets = 0;

  constructor(backoff: Pick<Backoff, "reset">, healthyAfterMs: number) {
    if (!Number.isFinite(healthyAfterMs) || healthyAfterMs < 0) {
      throw new RangeError(`healthyAfterMs must be a number ≥ 0, got ${healthyAfterMs}`);
    }
    this.#backoff = backoff;
    this.healthyAfterMs = healthyAfterMs;
  }

  /** When the current connection became healthy-eligible (opened / first frame); null when down. */
  get connectedSinceMs(): number | null {
    return this.#connectedSinceMs;
  }

  /** How many times this tracker has reset the backoff. */
  get resets(): number {
    return this.#resets;
  }

  /** The connection is up (call on open or, stricter, on its first data frame). */
  onConnected(nowMs: number): void {
    this.#connectedSinceMs = nowMs;
    this.#resetDone = false;
  }

  /** The connection went away: the healthy clock stops; the backoff keeps its attempt. */
  onDisconnected(): void {
    this.#connectedSinceMs = null;
    this.#resetDone = false;
  }

  /** Resets the backoff once per connection when it has been up long enough. True when it did. */
  check(nowMs: number): boolean {
    if (this.#connectedSinceMs === null || this.#resetDone) return false;
    if (nowMs - this.#connectedSinceMs < this.healthyAfterMs) return false;
    this.#backoff.reset();
    this.#resetDone = true;
    this.#resets++;
    return true;
  }
}
