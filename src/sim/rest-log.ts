/**
 * Every REST request the simulator answered, in arrival order: what was asked, its weight, what
 * was answered and why. Tests and harnesses judge a client's etiquette from it (no request while
 * a Retry-After runs, the weight budget per window kept), which counters alone cannot show.
 * Bounded: the oldest entries go first and are counted.
 */

/** Why a request got the answer it got. */
export type RestVerdict =
  /** Answered normally (200, or 400 for bad parameters). */
  | "ok"
  /** 429: this request would have taken the window's weight over the limit. */
  | "over_budget"
  /** 429 or 418: sent while an earlier 429's Retry-After was still running (a strike). */
  | "in_backoff"
  /** 418: sent while the IP was banned. */
  | "banned"
  /** Answered by a fault switch (rest.status), whatever the limits said. */
  | "fault";

export interface RestLogEntry {
  /** Simulator clock, µs (the clock the weight windows are aligned to). */
  atUs: number;
  ip: string;
  /** Path and query, e.g. /api/v3/historicalTrades?symbol=BTCUSDT&fromId=5&limit=1000 */
  path: string;
  /** The endpoint's request weight (counted against the window only when verdict is ok). */
  weight: number;
  status: number;
  /** Retry-After sent with the answer, seconds; 0 when none. */
  retryAfterS: number;
  verdict: RestVerdict;
}

export const REST_LOG_MAX_ENTRIES = 100_000;

export class RestLog {
  /** A ring: once full, the oldest entry is overwritten (no shifting of a 100k-entry array). */
  private readonly entries: RestLogEntry[] = [];
  private next = 0;
  dropped = 0;

  constructor(private readonly maxEntries = REST_LOG_MAX_ENTRIES) {}

  add(e: RestLogEntry): void {
    if (this.entries.length < this.maxEntries) this.entries.push(e);
    else {
      this.entries[this.next] = e;
      this.next = (this.next + 1) % this.maxEntries;
      this.dropped++;
    }
  }

  /** A copy, oldest first. */
  snapshot(): RestLogEntry[] {
    const ordered = [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
    return ordered.map((e) => ({ ...e }));
  }
}
