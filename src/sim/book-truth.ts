/**
 * Ground truth of one symbol's book at any instant of the last `retentionMs`: the book's changes
 * kept in segments, each a full copy of the book (a checkpoint) followed by the next
 * SEGMENT_EVENTS events' level changes. bookAt rebuilds from the nearest checkpoint at or before
 * the asked update id (at most SEGMENT_EVENTS events replayed). Bounded by time and by
 * BOOK_TRUTH_MAX_EVENTS per symbol, whichever is reached first; the oldest segment goes first.
 */
import type { IdRange } from "./ground-truth.ts";
import { partitionPoint } from "./search.ts";

/** Events between two checkpoints: a bookAt replays at most this many. */
const SEGMENT_EVENTS = 1024;
/** Hard bound per symbol whatever the retention (a max-rate market makes millions of events). */
export const BOOK_TRUTH_MAX_EVENTS = 1_000_000;

/** A price level: [price, quantity], both integers scaled by 1e8. */
export type BookLevel = [number, number];

/** The true book after the change with update id `updateId` (made at `timeUs`), best level first. */
export interface TrueBook {
  symbol: string;
  updateId: number;
  timeUs: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/**
 * Which book: right after update id N; in force at instant T (every change made at T or before);
 * or as the `@depth@100ms` stream had published it by T (the u of the last diff event with
 * E <= T, dropped ones included) — what a recorder that applied every event up to T holds.
 */
export type BookQuery = { updateId: number } | { timeUs: number } | { publishedUs: number };

/** What bookAt can answer for one symbol, and the diff events the skip fault kept off the sockets. */
export interface BookTruthSummary {
  updateId: number;
  oldestUpdateId: number;
  oldestTimeUs: number;
  newestTimeUs: number;
  /** [U, u] of each diff event dropped by skipDepthUpdates, per stream speed (bounded, newest kept). */
  droppedDiffs: { "100ms": IdRange[]; "1000ms": IdRange[] };
}

/** The live book, as much as a checkpoint needs. */
export interface BookLevels {
  bids: { toPairs(): number[] };
  asks: { toPairs(): number[] };
}

interface Segment {
  baseId: number;
  baseUs: number;
  /** Checkpoint: [price, qty, ...] best first. */
  bids: number[];
  asks: number[];
  /** Event i (id baseId + 1 + i): its time and the end of its changes in `changes`. */
  times: ArrayLike<number>;
  ends: ArrayLike<number>;
  /** [isBid 1|0, price, qty] triples. */
  changes: ArrayLike<number>;
}

export class BookTruth {
  private readonly segs: Segment[] = [];
  private events = 0;
  /** The newest segment's columns while it fills; packed into Float64Arrays when it is full. */
  private times: number[] = [];
  private ends: number[] = [];
  private changes: number[] = [];
  /** 100 ms diff events made: E (µs) and u, oldest first; trimmed with the segments. */
  private readonly publishedUs: number[] = [];
  private readonly publishedIds: number[] = [];
  private publishedHead = 0;

  constructor(readonly retentionMs: number) {}

  checkpoint(id: number, timeUs: number, book: BookLevels): void {
    const prev = this.segs[this.segs.length - 1];
    if (prev) {
      // Sealed: exact-size typed arrays (about half the memory of grown JS arrays).
      prev.times = Float64Array.from(this.times);
      prev.ends = Float64Array.from(this.ends);
      prev.changes = Float64Array.from(this.changes);
    }
    this.times = [];
    this.ends = [];
    this.changes = [];
    this.segs.push({
      baseId: id,
      baseUs: timeUs,
      bids: book.bids.toPairs(),
      asks: book.asks.toPairs(),
      times: this.times,
      ends: this.ends,
      changes: this.changes,
    });
  }

  /**
   * One event's changes (update ids arrive consecutively; the book already has them applied).
   * Memory: about 50 bytes per event kept (2026-12-04: 10 symbols × 10 min at 10 trades/s, ~30
   * events/s each: 0.9 MB per symbol over the trade-only mode).
   */
  record(id: number, timeUs: number, changes: readonly number[], book: BookLevels): void {
    for (const v of changes) this.changes.push(v);
    this.times.push(timeUs);
    this.ends.push(this.changes.length);
    this.events++;
    if (this.times.length < SEGMENT_EVENTS) return;
    this.checkpoint(id, timeUs, book);
    const oldestKeptUs = timeUs - this.retentionMs * 1000;
    while (this.segs.length > 1) {
      const next = this.segs[1]!;
      if (next.baseUs > oldestKeptUs && this.events <= BOOK_TRUTH_MAX_EVENTS) break;
      this.events -= this.segs[0]!.times.length;
      this.segs.shift();
    }
    const oldestId = this.segs[0]!.baseId;
    while (this.publishedHead < this.publishedIds.length && this.publishedIds[this.publishedHead]! < oldestId)
      this.publishedHead++;
    if (this.publishedHead > 4096) {
      this.publishedUs.splice(0, this.publishedHead);
      this.publishedIds.splice(0, this.publishedHead);
      this.publishedHead = 0;
    }
  }

  /** A 100 ms diff event was made (E and u): indexes the `publishedUs` query. */
  notePublished(eventUs: number, finalId: number): void {
    this.publishedUs.push(eventUs);
    this.publishedIds.push(finalId);
  }

  range(): { oldestUpdateId: number; oldestTimeUs: number; newestUpdateId: number; newestTimeUs: number } {
    const first = this.segs[0]!;
    const last = this.segs[this.segs.length - 1]!;
    const n = last.times.length;
    return {
      oldestUpdateId: first.baseId,
      oldestTimeUs: first.baseUs,
      newestUpdateId: last.baseId + n,
      newestTimeUs: n > 0 ? last.times[n - 1]! : last.baseUs,
    };
  }

  /**
   * The book after update id q.updateId, or in force at q.timeUs; null when that is older than
   * what is kept or (by id) newer than the last change. A time after the last change answers the
   * current book: final only once the market is paused or the time is behind the generation.
   */
  bookAt(symbol: string, q: BookQuery, levels = Number.MAX_SAFE_INTEGER): TrueBook | null {
    const r = this.range();
    let id: number;
    if ("updateId" in q) {
      if (q.updateId < r.oldestUpdateId || q.updateId > r.newestUpdateId) return null;
      id = q.updateId;
    } else if ("timeUs" in q) {
      if (q.timeUs < r.oldestTimeUs) return null;
      id = this.idAt(q.timeUs);
    } else {
      const published = this.publishedIdAt(q.publishedUs);
      if (published === null || published < r.oldestUpdateId) return null;
      id = published;
    }
    const seg = this.segmentOf(id);
    const bids = pairsToMap(seg.bids);
    const asks = pairsToMap(seg.asks);
    const upto = id - seg.baseId;
    let from = 0;
    for (let i = 0; i < upto; i++) {
      const end = seg.ends[i]!;
      for (let j = from; j < end; j += 3) {
        const side = seg.changes[j] === 1 ? bids : asks;
        const price = seg.changes[j + 1]!;
        const qty = seg.changes[j + 2]!;
        if (qty === 0) side.delete(price);
        else side.set(price, qty);
      }
      from = end;
    }
    return {
      symbol,
      updateId: id,
      timeUs: upto === 0 ? seg.baseUs : seg.times[upto - 1]!,
      bids: sorted(bids, (a, b) => b - a, levels),
      asks: sorted(asks, (a, b) => a - b, levels),
    };
  }

  /**
   * E (µs) of the 100 ms diff event whose last update id is `finalId` (dropped ones included);
   * null when no kept event ends there. Not the time of change `finalId` (`bookAt`'s timeUs): a
   * generator that lags (a late tick, maxTradesPerTick reached) stamps changes at their scheduled
   * times, which can precede the previous event's E, so only E says when the stream carried it.
   */
  publishedUsOf(finalId: number): number | null {
    const ids = this.publishedIds;
    const a = partitionPoint(this.publishedHead, ids.length, (i) => ids[i]! >= finalId);
    return a < ids.length && ids[a] === finalId ? this.publishedUs[a]! : null;
  }

  /** u of the last 100 ms event with E <= t; null when none is kept. */
  private publishedIdAt(t: number): number | null {
    const us = this.publishedUs;
    const a = partitionPoint(this.publishedHead, us.length, (i) => us[i]! > t);
    return a > this.publishedHead ? this.publishedIds[a - 1]! : null;
  }

  /** Last segment whose checkpoint is at or before `id`. */
  private segmentOf(id: number): Segment {
    return this.lastSegmentNotAfter((s) => s.baseId > id);
  }

  /** Id of the last change made at or before `timeUs` (times never decrease). */
  private idAt(timeUs: number): number {
    const seg = this.lastSegmentNotAfter((s) => s.baseUs > timeUs);
    return seg.baseId + partitionPoint(0, seg.times.length, (i) => seg.times[i]! > timeUs);
  }

  /** The last segment `after` is false for (segments ascend); the oldest kept when it holds for all. */
  private lastSegmentNotAfter(after: (s: Segment) => boolean): Segment {
    const segs = this.segs;
    return segs[Math.max(0, partitionPoint(0, segs.length, (i) => after(segs[i]!)) - 1)]!;
  }
}

function pairsToMap(pairs: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < pairs.length; i += 2) m.set(pairs[i]!, pairs[i + 1]!);
  return m;
}

function sorted(m: Map<number, number>, cmp: (a: number, b: number) => number, levels: number): BookLevel[] {
  const prices = [...m.keys()].sort(cmp);
  const n = Math.min(levels, prices.length);
  const out: BookLevel[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = [prices[i]!, m.get(prices[i]!)!];
  return out;
}
