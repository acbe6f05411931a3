/**
 * Circuit breaker around one outbound dependency (Binance REST, a disk that keeps failing, …).
 *
 * The old system declared a breaker that never recorded a failure (k2-reference.md), so it could
 * never open. Here every call goes through `exec(fn)`, which records the outcome itself.
 *
 *   closed ──(failureThreshold consecutive failures, or failure ratio over the last N calls)──▶ open
 *   open ──(openDurationMs elapsed; checked lazily on the next call or state read)──▶ half_open
 *   half_open: at most `halfOpenMaxProbes` calls in flight; the rest are rejected.
 *     a probe fails ──▶ open (a fresh openDurationMs);  `halfOpenSuccesses` probes succeed ──▶ closed
 *
 * While open, `exec` rejects at once with {@link CircuitOpenError} (`retryable: true`,
 * `retryAfterMs`) without calling `fn`, so a dead dependency costs nothing and is not hammered
 * (Binance answers hammering with 429 and then 418 IP bans).
 *
 * Error classification (`classify`, default {@link defaultClassify}): an error with
 * `retryable: false` (e.g. HTTP 400 "invalid symbol") means the dependency *answered*; it is
 * the request that is wrong. It counts as a success for the breaker's state (it resets the
 * consecutive-failure count and can close a half-open breaker), is counted in
 * `nonFailureErrors`, and is still re-thrown to the caller. Every other error is a failure.
 * A classifier may also return "ignore": no effect on state at all (e.g. a caller's own abort).
 *
 * Outcomes of calls admitted before the last state change (a slow call that started while closed
 * and fails after the breaker opened) update counters only: they say nothing about the current state.
 */

import type { Clock } from "./pacer.ts";

export type CircuitState = "closed" | "open" | "half_open";
export type CallOutcome = "success" | "failure" | "ignore";

export class CircuitOpenError extends Error {
  readonly kind = "circuit_open" as const;
  readonly retryable = true as const;
  constructor(
    /** The breaker's name (the dependency). */
    readonly breaker: string,
    /** ms until a call may be admitted again (an estimate while half-open probes are in flight). */
    readonly retryAfterMs: number,
  ) {
    super(`circuit ${breaker} is open: call refused, retry after ${retryAfterMs} ms`);
    this.name = "CircuitOpenError";
  }
}

export function defaultClassify(error: unknown): CallOutcome {
  const retryable =
    typeof error === "object" && error !== null ? (error as { retryable?: unknown }).retryable : undefined;
  return retryable === false ? "success" : "failure";
}

export interface StateChange {
  readonly breaker: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly atMs: number;
}

export interface CircuitBreakerOptions {
  readonly name: string;
  /** Consecutive failures that open the breaker. Default 5. */
  readonly failureThreshold?: number;
  /** Also open when at least `minCalls` of the last `windowSize` calls ran and ≥ `threshold` (0..1] failed. */
  readonly failureRatio?: {
    readonly threshold: number;
    readonly windowSize: number;
    readonly minCalls: number;
  };
  /** Time spent open before probing. Default 30000 ms. */
  readonly openDurationMs?: number;
  /** Probes allowed in flight while half-open. Default 1. */
  readonly halfOpenMaxProbes?: number;
  /** Successful probes needed to close. Default 1. */
  readonly halfOpenSuccesses?: number;
  /** retryAfterMs given to calls refused because the half-open probes are taken. Default 1000 ms. */
  readonly probeRetryAfterMs?: number;
  readonly classify?: (error: unknown) => CallOutcome;
  /** Called after each transition. Must not throw (a throw is counted in `hookErrors` and swallowed). */
  readonly onStateChange?: (change: StateChange) => void;
  /** Default `performance.now` (monotonic). */
  readonly now?: Clock;
}

export interface CircuitCounters {
  /** Calls whose fn resolved. */
  readonly successes: number;
  /** Calls whose error was classified a failure. */
  readonly failures: number;
  /** Calls that threw an error classified "success" or "ignore" (non-retryable by default). */
  readonly nonFailureErrors: number;
  /** Calls refused without running fn (open, or half-open with all probes taken). */
  readonly rejections: number;
  readonly transitions: number;
  readonly opens: number;
  readonly hookErrors: number;
}

interface Permit {
  readonly generation: number;
  readonly probe: boolean;
}

export class CircuitBreaker {
  readonly name: string;
  readonly #failureThreshold: number;
  readonly #ratio: { threshold: number; minCalls: number; window: Uint8Array } | undefined;
  readonly #openDurationMs: number;
  readonly #maxProbes: number;
  readonly #successesToClose: number;
  readonly #probeRetryAfterMs: number;
  readonly #classify: (error: unknown) => CallOutcome;
  readonly #onStateChange: ((change: StateChange) => void) | undefined;
  readonly #now: Clock;

  #state: CircuitState = "closed";
  #generation = 0;
  #openedAtMs = 0;
  #consecutiveFailures = 0;
  #probesInFlight = 0;
  #probeSuccesses = 0;
  #ratioNext = 0;
  #ratioCount = 0;
  #ratioFailures = 0;
  #c = {
    successes: 0,
    failures: 0,
    nonFailureErrors: 0,
    rejections: 0,
    transitions: 0,
    opens: 0,
    hookErrors: 0,
  };

  constructor(opts: CircuitBreakerOptions) {
    this.name = opts.name;
    this.#failureThreshold = positiveInt("failureThreshold", opts.failureThreshold ?? 5);
    this.#openDurationMs = opts.openDurationMs ?? 30_000;
    if (!(this.#openDurationMs >= 0))
      throw new RangeError(`openDurationMs must be ≥ 0, got ${opts.openDurationMs}`);
    this.#maxProbes = positiveInt("halfOpenMaxProbes", opts.halfOpenMaxProbes ?? 1);
    this.#successesToClose = positiveInt("halfOpenSuccesses", opts.halfOpenSuccesses ?? 1);
    this.#probeRetryAfterMs = opts.probeRetryAfterMs ?? 1_000;
    const r = opts.failureRatio;
    if (r) {
      if (!(r.threshold > 0 && r.threshold <= 1))
        throw new RangeError(`failureRatio.threshold must be in (0, 1], got ${r.threshold}`);
      positiveInt("failureRatio.windowSize", r.windowSize);
      if (!(r.minCalls >= 1 && r.minCalls <= r.windowSize)) {
        throw new RangeError(`failureRatio.minCalls must be in [1, windowSize], got ${r.minCalls}`);
      }
      this.#ratio = { threshold: r.threshold, minCalls: r.minCalls, window: new Uint8Array(r.windowSize) };
    }
    this.#classify = opts.classify ?? defaultClassify;
    this.#onStateChange = opts.onStateChange;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Current state; reading it moves open → half_open once openDurationMs has passed. */
  get state(): CircuitState {
    this.#refresh(this.#now());
    return this.#state;
  }

  get counters(): CircuitCounters {
    return { ...this.#c };
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** ms until a call may be admitted: 0 when closed, or half-open with a free probe slot. */
  retryAfterMs(): number {
    const now = this.#now();
    this.#refresh(now);
    if (this.#state === "open") return Math.max(0, this.#openedAtMs + this.#openDurationMs - now);
    if (this.#state === "half_open" && this.#probesInFlight >= this.#maxProbes)
      return this.#probeRetryAfterMs;
    return 0;
  }

  /** Runs `fn` if admitted and records its outcome; rejects with CircuitOpenError if not admitted. */
  async exec<T>(fn: () => Promise<T> | T): Promise<T> {
    const permit = this.#admit();
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.#settle(permit, this.#classify(error), true);
      throw error;
    }
    this.#settle(permit, "success", false);
    return value;
  }

  #admit(): Permit {
    const now = this.#now();
    this.#refresh(now);
    if (this.#state === "closed") return { generation: this.#generation, probe: false };
    if (this.#state === "half_open" && this.#probesInFlight < this.#maxProbes) {
      this.#probesInFlight++;
      return { generation: this.#generation, probe: true };
    }
    this.#c.rejections++;
    throw new CircuitOpenError(this.name, this.retryAfterMs());
  }

  #settle(permit: Permit, outcome: CallOutcome, threw: boolean): void {
    if (!threw) this.#c.successes++;
    else if (outcome === "failure") this.#c.failures++;
    else this.#c.nonFailureErrors++;
    if (permit.generation !== this.#generation) return; // admitted under an earlier state: stale
    const now = this.#now();
    if (permit.probe) {
      this.#probesInFlight--;
      if (outcome === "failure") this.#transition("open", now);
      else if (outcome === "success" && ++this.#probeSuccesses >= this.#successesToClose) {
        this.#transition("closed", now);
      }
      return;
    }
    if (outcome === "ignore") return;
    const failed = outcome === "failure";
    this.#consecutiveFailures = failed ? this.#consecutiveFailures + 1 : 0;
    const ratioReached = this.#recordRatio(failed);
    // Only a failure opens: a success that leaves the ratio high is still a success.
    if (failed && (ratioReached || this.#consecutiveFailures >= this.#failureThreshold)) {
      this.#transition("open", now);
    }
  }

  /** Pushes one outcome into the rolling window; true when the ratio rule trips. */
  #recordRatio(failed: boolean): boolean {
    const r = this.#ratio;
    if (!r) return false;
    const size = r.window.length;
    if (this.#ratioCount === size) this.#ratioFailures -= r.window[this.#ratioNext]!;
    else this.#ratioCount++;
    r.window[this.#ratioNext] = failed ? 1 : 0;
    this.#ratioFailures += failed ? 1 : 0;
    this.#ratioNext = (this.#ratioNext + 1) % size;
    return this.#ratioCount >= r.minCalls && this.#ratioFailures / this.#ratioCount >= r.threshold;
  }

  #refresh(now: number): void {
    if (this.#state === "open" && now - this.#openedAtMs >= this.#openDurationMs)
      this.#transition("half_open", now);
  }

  #transition(to: CircuitState, now: number): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#c.transitions++;
    this.#probesInFlight = 0;
    this.#probeSuccesses = 0;
    if (to === "open") {
      this.#c.opens++;
      this.#openedAtMs = now;
    }
    if (to === "closed") {
      this.#consecutiveFailures = 0;
      this.#ratioCount = 0;
      this.#ratioFailures = 0;
      this.#ratioNext = 0;
    }
    if (!this.#onStateChange) return;
    try {
      this.#onStateChange({ breaker: this.name, from, to, atMs: now });
    } catch {
      this.#c.hookErrors++;
    }
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer ≥ 1, got ${v}`);
  return v;
}
