/**
 * Degradation manager: five load-shedding levels driven by measurements of *this process*.
 *
 * The old system's shedding was keyed on stock tickers, dropped all crypto and could livelock
 * (k2-reference.md). Here the level comes only from what this process can measure about itself,
 * supplied by the caller each tick; the manager is pure (no clock, no timers) and only decides.
 * The pipeline consults the policy getters and does the counting; an accepted trade is never
 * discarded silently: quotes are dropped *and counted*, trades are refused *into the gap ledger*.
 *
 * | level             | action (what the pipeline does when it consults the getters)                        |
 * |-------------------|--------------------------------------------------------------------------------------|
 * | 0 NORMAL          | everything on                                                                        |
 * | 1 SOFT            | log + metrics only; query budgets shrink (queryBudgetScale 0.5)                      |
 * | 2 GRACEFUL        | drop quotes (bookTicker) before trades, counted; quotes are not repairable (no REST  |
 * |                   | history for bookTicker), so the loss is reported, never hidden                       |
 * | 3 AGGRESSIVE      | also refuse expensive queries (long-range OHLCV, replay) with 503; pause compaction; |
 * |                   | query budgets at 0.25                                                                |
 * | 4 CIRCUIT_BREAK   | refuse API queries with 503 except health/metrics; the source stops acknowledging   |
 * |                   | trades it cannot store and records their id ranges in the gap ledger for REST repair |
 *
 * Level = max over signals. Step up at once (to the highest level any signal asks for); step down
 * one level at a time, only when every signal is below its *exit* threshold (enter − margin:
 * hysteresis) and has stayed there for `cooldownMs` (a calm period that restarts whenever a
 * signal climbs back above its exit threshold). So input that flaps keeps the level up rather
 * than flapping it, and leaving CIRCUIT_BREAK takes at least 4 × cooldownMs.
 */
import type { TableName } from "../model/index.ts";

export const DegradationLevel = { NORMAL: 0, SOFT: 1, GRACEFUL: 2, AGGRESSIVE: 3, CIRCUIT_BREAK: 4 } as const;
export type DegradationLevel = (typeof DegradationLevel)[keyof typeof DegradationLevel];
export const LEVEL_NAMES = ["NORMAL", "SOFT", "GRACEFUL", "AGGRESSIVE", "CIRCUIT_BREAK"] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

export const LEVEL_ACTIONS: Readonly<Record<LevelName, string>> = {
  NORMAL: "everything on",
  SOFT: "log + metrics only; query budgets halved",
  GRACEFUL: "drop quotes (counted, not repairable) before trades",
  AGGRESSIVE: "also refuse expensive queries (long OHLCV, replay) with 503; pause compaction",
  CIRCUIT_BREAK:
    "refuse API queries except health/metrics; refuse trades into the gap ledger for REST repair",
};

/** What this process measured, once per tick. */
export interface DegradationMeasurements {
  /** Ring fill, 0..1. */
  readonly ringFillRatio: number;
  /** ms since the oldest row not yet written by the sink was accepted (0 when all written). */
  readonly sinkWriteLagMs: number;
  readonly rssBytes: number;
  readonly eventLoopLagP99Ms: number;
}

export type SignalName = "ring_fill" | "sink_write_lag_ms" | "memory_ratio" | "event_loop_lag_p99_ms";
export const SIGNAL_NAMES: readonly SignalName[] = [
  "ring_fill",
  "sink_write_lag_ms",
  "memory_ratio",
  "event_loop_lag_p99_ms",
];

export interface SignalThresholds {
  /** Values entering SOFT, GRACEFUL, AGGRESSIVE, CIRCUIT_BREAK; strictly ascending. */
  readonly enter: readonly [number, number, number, number];
  /** Hysteresis: a level is kept until the value drops below enter − margin. 0 ≤ margin < smallest gap. */
  readonly margin: number;
}

/**
 * Defaults, and why:
 * - ring_fill 0.5/0.7/0.85/0.95: a half-full ring already means the sink is behind; at 0.95 the
 *   next burst overflows (Binance bursts several × the mean rate on volatile minutes).
 * - sink_write_lag_ms 5 s/15 s/30 s/60 s: a healthy sink flushes within ~1–2 s; a minute of
 *   unwritten rows is a minute lost on a crash before the WAL catches up.
 * - memory_ratio (RSS / budget) 0.7/0.8/0.9/0.95: act well before the OOM killer does.
 * - event_loop_lag_p99_ms 100/250/500/1000: lag skews recv_time_us and delays pong replies
 *   (Binance disconnects when pongs are late); at 1 s the process cannot keep up.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<SignalName, SignalThresholds>> = {
  ring_fill: { enter: [0.5, 0.7, 0.85, 0.95], margin: 0.05 },
  sink_write_lag_ms: { enter: [5_000, 15_000, 30_000, 60_000], margin: 1_000 },
  memory_ratio: { enter: [0.7, 0.8, 0.9, 0.95], margin: 0.025 },
  event_loop_lag_p99_ms: { enter: [100, 250, 500, 1_000], margin: 25 },
};
export const DEFAULT_COOLDOWN_MS = 30_000;

export interface DegradationOptions {
  /** RSS budget: memory_ratio = rssBytes / rssBudgetBytes. */
  readonly rssBudgetBytes: number;
  readonly thresholds?: Partial<Record<SignalName, SignalThresholds>>;
  /** Calm time needed before each one-level step down. Default 30000 ms. */
  readonly cooldownMs?: number;
  /** Called after each level change. Must not throw (a throw is counted in `hookErrors`). */
  readonly onChange?: (change: LevelChange) => void;
  /** Time the manager starts at NORMAL (the `since` before the first change). Default 0. */
  readonly startMs?: number;
}

export interface LevelChange {
  readonly from: DegradationLevel;
  readonly to: DegradationLevel;
  readonly atMs: number;
  readonly reasons: readonly DegradationReason[];
}

export interface DegradationReason {
  readonly signal: SignalName;
  readonly value: number;
  /** The level this signal alone asks for (enter thresholds). */
  readonly level: DegradationLevel;
  /** The level this signal holds (exit thresholds); ≥ level. */
  readonly holdLevel: DegradationLevel;
  readonly message: string;
}

/** What the pipeline does with a row of `table`: keep it, drop it (counted), or ledger it for REST repair. */
export type Admission = "accept" | "drop_counted" | "refuse_to_repair";
export type QueryCost = "health" | "cheap" | "expensive";

const BUDGET_SCALE: readonly number[] = [1, 0.5, 0.5, 0.25, 0];

export class DegradationManager {
  readonly cooldownMs: number;
  readonly #rssBudgetBytes: number;
  readonly #thresholds: Readonly<Record<SignalName, SignalThresholds>>;
  readonly #onChange: ((change: LevelChange) => void) | undefined;
  #level: DegradationLevel = 0;
  #sinceMs: number;
  #calmSinceMs: number | null = null;
  #reasons: readonly DegradationReason[] = [];
  #transitions = 0;
  #hookErrors = 0;

  constructor(opts: DegradationOptions) {
    if (!(opts.rssBudgetBytes > 0))
      throw new RangeError(`rssBudgetBytes must be > 0, got ${opts.rssBudgetBytes}`);
    this.#rssBudgetBytes = opts.rssBudgetBytes;
    this.cooldownMs = opts.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    if (!(this.cooldownMs >= 0)) throw new RangeError(`cooldownMs must be ≥ 0, got ${opts.cooldownMs}`);
    const t = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
    for (const name of SIGNAL_NAMES) validate(name, t[name]);
    this.#thresholds = t;
    this.#onChange = opts.onChange;
    this.#sinceMs = opts.startMs ?? 0;
  }

  get level(): DegradationLevel {
    return this.#level;
  }
  get levelName(): LevelName {
    return LEVEL_NAMES[this.#level]!;
  }
  /** When the current level was entered. */
  get since(): number {
    return this.#sinceMs;
  }
  get transitions(): number {
    return this.#transitions;
  }
  get hookErrors(): number {
    return this.#hookErrors;
  }
  /** When the next one-level step down happens if every signal stays calm; null if not calm. */
  get nextStepDownAtMs(): number | null {
    return this.#calmSinceMs === null ? null : this.#calmSinceMs + this.cooldownMs;
  }

  /** Signals above an exit threshold at the last update, highest first: why the level is what it is. */
  reasons(): readonly DegradationReason[] {
    return this.#reasons;
  }

  /** Feeds one tick of measurements; returns the (possibly new) level. */
  update(m: DegradationMeasurements, nowMs: number): DegradationLevel {
    const readings: [SignalName, number][] = [
      ["ring_fill", m.ringFillRatio],
      ["sink_write_lag_ms", m.sinkWriteLagMs],
      ["memory_ratio", m.rssBytes / this.#rssBudgetBytes],
      ["event_loop_lag_p99_ms", m.eventLoopLagP99Ms],
    ];
    let enter = 0;
    let hold = 0;
    const levels: [number, number][] = [];
    for (const [signal, value] of readings) {
      // NaN (a signal not measured yet) drives nothing; +Infinity is maximal pressure.
      const th = this.#thresholds[signal];
      const lv = Number.isNaN(value) ? 0 : levelOf(value, th.enter, 0);
      const hl = Number.isNaN(value) ? 0 : levelOf(value, th.enter, th.margin);
      levels.push([lv, hl]);
      enter = Math.max(enter, lv);
      hold = Math.max(hold, hl);
    }

    let next: number = this.#level;
    let calmSince = this.#calmSinceMs;
    if (enter > this.#level) {
      next = enter;
    } else if (hold >= this.#level) {
      calmSince = null; // still under pressure at this level (hysteresis): the calm restarts
    } else {
      calmSince ??= nowMs;
      if (nowMs - calmSince >= this.cooldownMs) next = this.#level - 1;
    }

    const reasons: DegradationReason[] = [];
    readings.forEach(([signal, value], i) => {
      const [lv, hl] = levels[i]!;
      // A signal holds at most the level in force: above it, it is only "near" a threshold.
      const held = Math.max(lv, Math.min(hl, next));
      if (held > 0) reasons.push(reason(signal, value, lv, held, this.#thresholds[signal]));
    });
    reasons.sort((a, b) => b.holdLevel - a.holdLevel || b.level - a.level);
    this.#reasons = reasons;

    if (next !== this.#level) {
      const down = next < this.#level;
      this.#change(next as DegradationLevel, nowMs);
      // After a step down the new level needs its own full calm period, starting now.
      if (down && hold < next) this.#calmSinceMs = nowMs;
    } else {
      this.#calmSinceMs = calmSince;
    }
    return this.#level;
  }

  /** accept; quotes dropped (counted) from GRACEFUL; trades refused into the gap ledger at CIRCUIT_BREAK. */
  admission(table: TableName): Admission {
    if (table === "quotes") return this.#level >= DegradationLevel.GRACEFUL ? "drop_counted" : "accept";
    return this.#level >= DegradationLevel.CIRCUIT_BREAK ? "refuse_to_repair" : "accept";
  }

  shouldAccept(table: TableName): boolean {
    return this.admission(table) === "accept";
  }

  /** Health and metrics are always served; expensive queries stop at AGGRESSIVE, all others at CIRCUIT_BREAK. */
  allowQuery(cost: QueryCost): boolean {
    if (cost === "health") return true;
    if (cost === "expensive") return this.#level < DegradationLevel.AGGRESSIVE;
    return this.#level < DegradationLevel.CIRCUIT_BREAK;
  }

  /** Multiply query row/time budgets by this: 1, 0.5, 0.5, 0.25, 0. */
  get queryBudgetScale(): number {
    return BUDGET_SCALE[this.#level]!;
  }

  get compactionPaused(): boolean {
    return this.#level >= DegradationLevel.AGGRESSIVE;
  }

  /** Suggested Retry-After for a 503 caused by the level: one cooldown. */
  get retryAfterMs(): number {
    return this.cooldownMs;
  }

  #change(to: DegradationLevel, nowMs: number): void {
    const from = this.#level;
    this.#level = to;
    this.#sinceMs = nowMs;
    this.#calmSinceMs = null;
    this.#transitions++;
    if (!this.#onChange) return;
    try {
      this.#onChange({ from, to, atMs: nowMs, reasons: this.#reasons });
    } catch {
      this.#hookErrors++;
    }
  }
}

/** How many of the (ascending) thresholds, each lowered by `margin`, the value reaches. */
function levelOf(value: number, enter: readonly number[], margin: number): number {
  let lv = 0;
  for (const t of enter) if (value >= t - margin) lv++;
  return lv;
}

function reason(
  signal: SignalName,
  value: number,
  lv: number,
  hl: number,
  th: SignalThresholds,
): DegradationReason {
  const level = lv as DegradationLevel;
  const holdLevel = hl as DegradationLevel;
  const message =
    lv === hl
      ? `${signal} ${round(value)} ≥ ${th.enter[lv - 1]} (${LEVEL_NAMES[lv]})`
      : `${signal} ${round(value)} still ≥ exit ${round(th.enter[hl - 1]! - th.margin)} of ${LEVEL_NAMES[hl]} (hysteresis)`;
  return { signal, value, level, holdLevel, message };
}

/** Readable numbers in messages: 0.8999999999999999 → 0.9. */
function round(v: number): number {
  return Number(v.toPrecision(6));
}

function validate(name: SignalName, th: SignalThresholds): void {
  const e = th.enter;
  const ascending = e.length === 4 && e.every((v, i) => Number.isFinite(v) && (i === 0 || v > e[i - 1]!));
  if (!ascending)
    throw new RangeError(`${name} thresholds must be 4 finite ascending numbers, got ${e.join(", ")}`);
  // margin < enter[0]: every level can be left (a value of 0 is below every exit threshold).
  // margin < the smallest gap: hysteresis holds one level, never reaches across two.
  let minGap = e[0];
  for (let i = 1; i < 4; i++) minGap = Math.min(minGap, e[i]! - e[i - 1]!);
  if (!(th.margin >= 0 && th.margin < minGap)) {
    throw new RangeError(
      `${name} margin must be ≥ 0 and below the smallest threshold gap ${round(minGap)}, got ${th.margin}`,
    );
  }
}
