/**
 * One symbol's depth streams (web-socket-streams.md, "Diff. Depth Stream" and "Partial Book Depth
 * Streams"): every book change is collected into two diff accumulators, one per stream speed
 * (`@depth@100ms` and `@depth`, 1000 ms); at each interval boundary of the simulator clock the
 * levels changed since the last event go out as one depthUpdate with U = first and u = final
 * update id of the changes it covers and each level's quantity as of u (0 = removed). Events are
 * made whether or not anyone listens, so a stream's events are continuous (U = previous u + 1)
 * except where the skipDepthUpdates fault drops one.
 */
import type { IdRange } from "./ground-truth.ts";

export const DEPTH_SPEEDS = ["100ms", "1000ms"] as const;
export type DepthSpeed = (typeof DEPTH_SPEEDS)[number];
const INTERVAL_US: Record<DepthSpeed, number> = { "100ms": 100_000, "1000ms": 1_000_000 };

/** Recent 100 ms events remembered for the stale-snapshot fault (how far back it can reach). */
export const STALE_EVENTS_MAX = 64;
/** Dropped events listed in the ground truth per speed (the newest are kept). */
const DROPPED_MAX = 1000;

export interface DepthEvent {
  firstId: number;
  finalId: number;
  eventUs: number;
  /** [price, qty, ...] scaled by 1e8; bids best (highest) first, asks best (lowest) first. */
  bids: number[];
  asks: number[];
}

/** What one tick publishes for a symbol: diff events and which partial-depth speeds are due. */
export interface DepthTick {
  diffs: Array<{ speed: DepthSpeed; event: DepthEvent }>;
  partial: Record<DepthSpeed, boolean>;
}

class DiffAccumulator {
  /** 0 = nothing pending. */
  firstId = 0;
  finalId = 0;
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();

  add(id: number, changes: readonly number[]): void {
    if (this.firstId === 0) this.firstId = id;
    this.finalId = id;
    for (let j = 0; j < changes.length; j += 3) {
      (changes[j] === 1 ? this.bids : this.asks).set(changes[j + 1]!, changes[j + 2]!);
    }
  }

  take(eventUs: number): DepthEvent | null {
    if (this.firstId === 0) return null;
    const e: DepthEvent = {
      firstId: this.firstId,
      finalId: this.finalId,
      eventUs,
      bids: flatten(this.bids, (a, b) => b - a),
      asks: flatten(this.asks, (a, b) => a - b),
    };
    this.discard();
    return e;
  }

  discard(): void {
    this.firstId = 0;
    this.finalId = 0;
    this.bids.clear();
    this.asks.clear();
  }
}

function flatten(m: Map<number, number>, cmp: (a: number, b: number) => number): number[] {
  const prices = [...m.keys()].sort(cmp);
  const out = new Array<number>(prices.length * 2);
  for (let i = 0; i < prices.length; i++) {
    out[2 * i] = prices[i]!;
    out[2 * i + 1] = m.get(prices[i]!)!;
  }
  return out;
}

export class DepthFeed {
  private readonly acc: Record<DepthSpeed, DiffAccumulator> = {
    "100ms": new DiffAccumulator(),
    "1000ms": new DiffAccumulator(),
  };
  private readonly nextUs: Record<DepthSpeed, number> = { "100ms": 0, "1000ms": 0 };
  private readonly drops: Record<DepthSpeed, number> = { "100ms": 0, "1000ms": 0 };
  readonly dropped: Record<DepthSpeed, IdRange[]> = { "100ms": [], "1000ms": [] };
  /** First update ids of the last STALE_EVENTS_MAX 100 ms events made (sent or dropped), oldest first. */
  private readonly recentFirstIds: number[] = [];
  /** Told of every 100 ms event made (sent or dropped): the ground truth's "as published" index. */
  onPublish: ((eventUs: number, finalId: number) => void) | null = null;

  collect(id: number, changes: readonly number[]): void {
    this.acc["100ms"].add(id, changes);
    this.acc["1000ms"].add(id, changes);
  }

  /** Drop the next `count` diff events of each speed: the event after them has U > previous u + 1. */
  skip(count: number): void {
    this.drops["100ms"] += count;
    this.drops["1000ms"] += count;
  }

  /**
   * Changes made before the live market began (the archive's history) are never published: the
   * first live event starts after them, as a client connecting later sees Binance's stream.
   */
  discardPending(): void {
    for (const s of DEPTH_SPEEDS) this.acc[s].discard();
  }

  /** Events and partial-depth publications due at `nowUs`; null when no interval boundary passed. */
  due(nowUs: number): DepthTick | null {
    let tick: DepthTick | null = null;
    for (const speed of DEPTH_SPEEDS) {
      if (nowUs < this.nextUs[speed]) continue;
      const interval = INTERVAL_US[speed];
      this.nextUs[speed] = (Math.floor(nowUs / interval) + 1) * interval;
      tick ??= { diffs: [], partial: { "100ms": false, "1000ms": false } };
      tick.partial[speed] = true;
      // Whole milliseconds: E reads the same in ms and in µs (timeUnit=MICROSECOND), so a
      // recorder's "events with E <= T" is the same set whichever unit it subscribed with.
      const event = this.acc[speed].take(nowUs - (nowUs % 1000));
      if (!event) continue;
      if (speed === "100ms") {
        this.onPublish?.(event.eventUs, event.finalId);
        this.recentFirstIds.push(event.firstId);
        if (this.recentFirstIds.length > STALE_EVENTS_MAX) this.recentFirstIds.shift();
      }
      if (this.drops[speed] > 0) {
        this.drops[speed]--;
        const list = this.dropped[speed];
        list.push([event.firstId, event.finalId]);
        if (list.length > DROPPED_MAX) list.shift();
        continue;
      }
      tick.diffs.push({ speed, event });
    }
    return tick;
  }

  /**
   * Update id of the book as it was before the last `eventsBack` 100 ms diff events (every one of
   * them is newer than it); null when no event has been made yet.
   */
  staleUpdateId(eventsBack: number): number | null {
    const n = this.recentFirstIds.length;
    if (n === 0) return null;
    return this.recentFirstIds[Math.max(0, n - eventsBack)]! - 1;
  }
}
