/**
 * Three health tiers, each on its own timer (the old system had one 30 s check and a /health
 * that always said 200):
 * - data (default 1 s): is every connection delivering within the data timeout? Also keeps the
 *   uptime account: the share of time during which every shard delivered.
 * - management (10 s): reconnect state, gap backlog, ring fill → one log line and gauges.
 * - control (30 s): overall readiness for /health/ready. It is also re-evaluated at once when the
 *   data tier sees a change, so readiness turns true as soon as data flows, false as soon as it stops.
 */
import type { CheckResult } from "../resilience/readiness.ts";

export interface ShardStatus {
  shard: number;
  open: boolean;
  lastFrameMs: number;
  backoffAttempt: number;
  rotating: boolean;
}

export interface HealthInputs {
  shardStatus(): ShardStatus[];
  /** Extra facts for the management tier (gap backlog, ring fill, ...). */
  management(): Record<string, number | string>;
}

export interface HealthOptions {
  readonly dataTimeoutMs: number;
  readonly dataMs: number;
  readonly mgmtMs: number;
  readonly controlMs: number;
  readonly onManagement?: (facts: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export class SourceHealth {
  /** Per shard, as of the last data tick. */
  delivering: boolean[] = [];
  deliveringMs = 0;
  observedMs = 0;
  #lastTick = 0;
  #ready: CheckResult = { ok: false, reason: "no data yet" };
  #timers: ReturnType<typeof setInterval>[] = [];
  readonly #now: () => number;

  constructor(
    readonly inputs: HealthInputs,
    readonly opts: HealthOptions,
  ) {
    this.#now = opts.now ?? (() => performance.now());
  }

  start(): void {
    this.#lastTick = this.#now();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref?.();
      this.#timers.push(t);
    };
    every(this.opts.dataMs, () => this.dataTick());
    every(this.opts.mgmtMs, () => this.opts.onManagement?.(this.managementFacts()));
    every(this.opts.controlMs, () => this.controlTick());
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /** Share of observed time during which every shard delivered (1 = always). */
  uptimeRatio(): number {
    return this.observedMs === 0 ? 0 : this.deliveringMs / this.observedMs;
  }

  ready(): CheckResult {
    return this.#ready;
  }

  dataTick(): void {
    const now = this.#now();
    const status = this.inputs.shardStatus();
    const before = this.delivering.join();
    this.delivering = status.map((s) => s.lastFrameMs > 0 && now - s.lastFrameMs <= this.opts.dataTimeoutMs);
    const all = this.delivering.length > 0 && this.delivering.every(Boolean);
    const dt = now - this.#lastTick;
    this.#lastTick = now;
    this.observedMs += dt;
    if (all) this.deliveringMs += dt;
    if (this.delivering.join() !== before) this.controlTick();
  }

  controlTick(): void {
    const stalled = this.delivering.map((d, i) => (d ? -1 : i)).filter((i) => i >= 0);
    if (this.delivering.length === 0) this.#ready = { ok: false, reason: "no connection has delivered yet" };
    else if (stalled.length > 0) {
      this.#ready = {
        ok: false,
        reason: `shard(s) ${stalled.join(",")} delivered nothing within ${this.opts.dataTimeoutMs} ms`,
      };
    } else this.#ready = { ok: true, reason: `${this.delivering.length} shard(s) delivering` };
  }

  managementFacts(): Record<string, unknown> {
    const status = this.inputs.shardStatus();
    return {
      shards: status.length,
      open: status.filter((s) => s.open).length,
      rotating: status.filter((s) => s.rotating).length,
      max_backoff_attempt: Math.max(0, ...status.map((s) => s.backoffAttempt)),
      uptime_ratio: Number(this.uptimeRatio().toFixed(6)),
      ...this.inputs.management(),
    };
  }
}
