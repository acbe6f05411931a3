/**
 * JSON text of the depth events as Binance lays them out (web-socket-streams.md, "Diff. Depth
 * Stream" and "Partial Book Depth Streams"; rest-api.md "Order book" for the snapshot body):
 * levels as [price, quantity] pairs of 8-decimal strings, bids best (highest) first, asks best
 * (lowest) first.
 */
import type { SymbolBook } from "./book.ts";
import type { DepthEvent } from "./depth-feed.ts";
import { formatScaled } from "./market.ts";

/** The book-mode stream kinds: diffs at 1000 ms (`depth`) and 100 ms, partial depth at 5/10/20 levels. */
export const DEPTH_KINDS = [
  "depth",
  "depth@100ms",
  "depth5",
  "depth10",
  "depth20",
  "depth5@100ms",
  "depth10@100ms",
  "depth20@100ms",
] as const;
export const PARTIAL_LEVELS = [5, 10, 20] as const;

/** `[["p","q"],...]` of a flat [price, qty, ...] list. */
export function levelsJson(pairs: readonly number[]): string {
  let s = "[";
  for (let i = 0; i < pairs.length; i += 2) {
    if (i > 0) s += ",";
    s += `["${formatScaled(pairs[i]!)}","${formatScaled(pairs[i + 1]!)}"]`;
  }
  return `${s}]`;
}

export function depthUpdateJson(s: string, e: DepthEvent, micros: boolean): string {
  const E = micros ? e.eventUs : Math.floor(e.eventUs / 1000);
  return `{"e":"depthUpdate","E":${E},"s":"${s}","U":${e.firstId},"u":${e.finalId},"b":${levelsJson(e.bids)},"a":${levelsJson(e.asks)}}`;
}

/** Partial depth (stream) and the REST snapshot share this body: the top `levels` of the book now. */
export function bookSnapshotJson(book: SymbolBook, levels: number): string {
  return `{"lastUpdateId":${book.updateId},"bids":${levelsJson(book.bids.toPairs(levels))},"asks":${levelsJson(book.asks.toPairs(levels))}}`;
}

/** The same body from levels given as [price, qty] tuples (a past book from the ground truth). */
export function snapshotJsonOf(
  lastUpdateId: number,
  bids: ReadonlyArray<readonly [number, number]>,
  asks: ReadonlyArray<readonly [number, number]>,
): string {
  return `{"lastUpdateId":${lastUpdateId},"bids":${levelsJson(bids.flat())},"asks":${levelsJson(asks.flat())}}`;
}
