/**
 * The minutes a writer queued for a verdict this run, per symbol (roles/writer-klines.ts). Two
 * recorders publish each closed kline, so the second copy is told apart; and a kline that is not
 * the next minute after the newest one queued (or is the symbol's first of this run) says minutes
 * may be missing before it: a writer restarted, or every recorder was down while minutes closed.
 * Those are then fetched from REST (kline-missed.ts) unless they were queued here after all.
 */

/** Minutes remembered per symbol: a copy older than this is judged again. */
export const QUEUED_MINUTES = 240;
export const MINUTE_US = 60_000_000;

/** copy: already queued · next: the minute after the newest (or an older one) · after_hole: see above. */
export type MinuteArrival = "copy" | "next" | "after_hole";

export class QueuedMinutes {
  readonly #seen = new Map<string, Set<number>>();
  readonly #newest = new Map<string, number>();

  constructor(readonly keep = QUEUED_MINUTES) {}

  /** A closed kline of `symbol` opening at `openUs` arrived: queue it unless it is a copy. */
  note(symbol: string, openUs: number): MinuteArrival {
    if (this.has(symbol, openUs)) return "copy";
    const newest = this.#newest.get(symbol);
    this.add(symbol, openUs);
    return newest === undefined || openUs > newest + MINUTE_US ? "after_hole" : "next";
  }

  has(symbol: string, openUs: number): boolean {
    return this.#seen.get(symbol)?.has(openUs) ?? false;
  }

  /** Unmark a minute (its REST fetch failed: it is asked for again, and its kline is no copy). */
  forget(symbol: string, openUs: number): void {
    this.#seen.get(symbol)?.delete(openUs);
  }

  /** Mark a minute queued (a kline, or a missed minute fetched from REST). */
  add(symbol: string, openUs: number): void {
    let s = this.#seen.get(symbol);
    if (!s) {
      s = new Set<number>();
      this.#seen.set(symbol, s);
    }
    s.add(openUs);
    // Insertion order is arrival order: the oldest goes first.
    if (s.size > this.keep) s.delete(s.values().next().value!);
    this.#newest.set(symbol, Math.max(this.#newest.get(symbol) ?? openUs, openUs));
  }
}
