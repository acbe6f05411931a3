/**
 * GET /api/v3/depth (rest-api.md, "Order book"), book mode only: limit default 100, at most 5000
 * (a larger one is cut to 5000, as Binance does), weight by limit (≤100 → 5, ≤500 → 25, ≤1000 →
 * 50, ≤5000 → 250). The body is the book now, whose lastUpdateId is at or after the last diff
 * event sent, or, under the stale-snapshot fault, the book from before the last N diff events.
 */
import type { SymbolBook } from "./book.ts";
import { bookSnapshotJson, snapshotJsonOf } from "./depth-frames.ts";

export const DEPTH_PATH = "/api/v3/depth";
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 5000;

/** The requested limit (default 100, cut to 5000), or null when it is not a positive integer. */
export function depthLimit(q: URLSearchParams): number | null {
  const v = q.get("limit");
  if (v === null) return DEFAULT_LIMIT;
  if (!/^[0-9]{1,16}$/.test(v) || Number(v) < 1) return null;
  return Math.min(Number(v), MAX_LIMIT);
}

/** Binance's weight for a depth request of `limit` levels. */
export function depthWeight(limit: number): number {
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

/** The snapshot body; `staleEvents` > 0: the book before the last that many 100 ms diff events. */
export function depthBody(book: SymbolBook, limit: number, staleEvents: number): string {
  if (staleEvents > 0) {
    const id = book.feed.staleUpdateId(staleEvents);
    const past = id === null ? null : book.truth.bookAt(book.symbol, { updateId: id }, limit);
    if (past) return snapshotJsonOf(past.updateId, past.bids, past.asks);
  }
  return bookSnapshotJson(book, limit);
}
