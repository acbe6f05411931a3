/**
 * Hand-over metrics, kept for the process (a pipeline restarted after an abandoned hand-over gets a
 * new registry; the counts carry over): `k2_handover_total{result}` and `k2_handover_seconds`.
 * Results: taken_over / owner_lost (this process took a data dir over: from a live owner, or from
 * one that ended mid-way), refused (this owner said no to a newcomer), abandoned_before_cut /
 * abandoned_after_cut (the newcomer went away; this owner carried on).
 */
import type { CounterChild, Registry } from "../obs/metrics.ts";

export const HANDOVER_RESULTS = [
  "taken_over",
  "owner_lost",
  "refused",
  "abandoned_before_cut",
  "abandoned_after_cut",
] as const;
export type HandoverResult = (typeof HANDOVER_RESULTS)[number];

export class HandoverMetrics {
  readonly #totals = new Map<HandoverResult, number>(HANDOVER_RESULTS.map((r) => [r, 0]));
  #children = new Map<HandoverResult, CounterChild>();
  /** Seconds from this process's start to serving, when it took a data dir over. */
  seconds = Number.NaN;

  record(result: HandoverResult): void {
    this.#totals.set(result, (this.#totals.get(result) ?? 0) + 1);
    this.#children.get(result)?.inc();
  }

  /** Expose on `registry` (each pipeline's), starting from the counts so far. */
  attach(registry: Registry): void {
    const total = registry.counter(
      "k2_handover_total",
      "hand-overs between two K2 processes on this data dir, by result",
    );
    this.#children = new Map(
      HANDOVER_RESULTS.map((r) => {
        const c = total.with({ result: r });
        c.inc(this.#totals.get(r) ?? 0);
        return [r, c];
      }),
    );
    registry.gauge(
      "k2_handover_seconds",
      "seconds from this K2's start to serving, when it took a data dir over (NaN: it did not)",
      () => this.seconds,
    );
  }
}
