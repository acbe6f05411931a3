/**
 * A per-symbol order book: two BookSides, the update id it reflects, and the time of the snapshot
 * it was last built from. It applies what it is given; whether it may (update-id continuity) is
 * the synchroniser's business (sync.ts).
 */
import type { DepthFrame, DepthSide } from "../decode/binance/index.ts";
import { BOOK_MAX_LEVELS_PER_SIDE, type BookLevels, BookSide } from "./side.ts";

/** OrderBook.best: which sides have a best level. */
export const BEST_BID = 1;
export const BEST_ASK = 2;

export class OrderBook {
  readonly symbolId: number;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** The last update id applied (a snapshot's lastUpdateId or a diff's `u`); -1 before any snapshot. */
  updateId = -1;
  /** Receive time (µs) of the snapshot the book was last built from; -1 before any. */
  snapshotUs = -1;
  /** Levels the last snapshot was asked for per side (Binance `limit`). */
  snapshotLimit = 0;

  constructor(symbolId: number, maxLevelsPerSide = BOOK_MAX_LEVELS_PER_SIDE) {
    this.symbolId = symbolId;
    this.bids = new BookSide(true, maxLevelsPerSide);
    this.asks = new BookSide(false, maxLevelsPerSide);
  }

  /**
   * Build from a decoded snapshot asked for with `limit` levels per side: a side that came back
   * with fewer levels is complete. False (book unchanged) when a side is not strictly ordered or
   * has a zero quantity.
   */
  applySnapshot(f: DepthFrame, limit: number, timeUs: number): boolean {
    const b = f.bids;
    const a = f.asks;
    if (!this.bids.snapshotValid(b.pxw, b.qtyw, b.n) || !this.asks.snapshotValid(a.pxw, a.qtyw, a.n))
      return false;
    this.bids.applySnapshot(b.pxw, b.qtyw, b.n, b.n < limit, timeUs);
    this.asks.applySnapshot(a.pxw, a.qtyw, a.n, a.n < limit, timeUs);
    this.updateId = f.lastId;
    this.snapshotUs = timeUs;
    this.snapshotLimit = limit;
    return true;
  }

  /** Set `count` levels from word arrays starting at level `start` on one side (quantity 0 removes). */
  applyLevels(
    side: BookSide,
    pxw: Uint32Array,
    qtyw: Uint32Array,
    start: number,
    count: number,
    timeUs: number,
  ): void {
    for (let j = start; j < start + count; j++)
      side.set(pxw[2 * j]!, pxw[2 * j + 1]!, qtyw[2 * j]!, qtyw[2 * j + 1]!, timeUs);
  }

  /** Apply a decoded diff's levels and take its final update id. */
  applyDiff(f: DepthFrame): void {
    this.#applySide(this.bids, f.bids, f.eventTimeUs);
    this.#applySide(this.asks, f.asks, f.eventTimeUs);
    this.updateId = f.lastId;
  }

  #applySide(side: BookSide, d: DepthSide, timeUs: number): void {
    this.applyLevels(side, d.pxw, d.qtyw, 0, d.n, timeUs);
  }

  /**
   * Best bid and ask into `dst` (≥ 8 words): bid price, bid quantity, ask price, ask quantity, two
   * words each (low first). Returns BEST_BID | BEST_ASK for the sides that have a level; an empty
   * side's words are left as they were.
   */
  best(dst: Uint32Array): number {
    let sides = 0;
    if (this.bids.n > 0) {
      this.bids.priceAt(0, dst, 0);
      this.bids.quantityAt(0, dst, 1);
      sides |= BEST_BID;
    }
    if (this.asks.n > 0) {
      this.asks.priceAt(0, dst, 2);
      this.asks.quantityAt(0, dst, 3);
      sides |= BEST_ASK;
    }
    return sides;
  }

  /** Best bid at or above the best ask: a sign the book has gone wrong. */
  isCrossed(scratch: Uint32Array): boolean {
    if (this.bids.n === 0 || this.asks.n === 0) return false;
    this.bids.priceAt(0, scratch, 0);
    this.asks.priceAt(0, scratch, 1);
    const bh = scratch[1]!;
    const ah = scratch[3]!;
    return bh > ah || (bh === ah && scratch[0]! >= scratch[2]!);
  }

  /** Top `levels` per side into caller-owned lists (a full-depth checkpoint: levels = Infinity). */
  top(levels: number, bids: BookLevels, asks: BookLevels): void {
    this.bids.copyTop(levels, bids);
    this.asks.copyTop(levels, asks);
  }

  /** Forget everything (the synchroniser restarts from nothing). */
  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.updateId = -1;
    this.snapshotUs = -1;
  }
}
