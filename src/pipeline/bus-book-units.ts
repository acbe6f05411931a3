/**
 * Which order-book rows a writer keeps when two recorders publish the same books (issue 18).
 *
 * Trades are facts with one id each: the first copy of an id is as good as the other. Book rows
 * are parts of a unit that only means something whole: an event's levels, a top snapshot's
 * levels, a checkpoint's levels (model/book-rows.ts composes each row's id from its unit and its
 * position in it). Two recorders agree on a diff event's rows, but not always on the rest:
 * - each recorder fetches its own REST snapshots, stored as book_deltas rows with the id
 *   lastUpdateId × 2^14 + position, which is also the id of the diff event whose `u` equals that
 *   lastUpdateId, as the other recorder stored it;
 * - each recorder's checkpoint of one instant holds the levels its own snapshots reached, with
 *   its own states and times, in as many rows as its book had.
 * Keeping the first copy of each id could then store a unit made of two recorders' rows: a
 * snapshot missing its first levels, a checkpoint with levels from two books. So a writer keeps
 * whole parts: the rows one message brings of one unit are kept, or dropped, together. A part is
 * kept when all of it lies above the highest id already kept of its unit (in a file or earlier in
 * this gathering), which is true of a recorder's own continuation of a unit cut between two
 * messages and false of any other copy (a copy starts at position 0, at or below what is kept).
 *
 * Not covered: two recorders cutting one unit at the very same row into two messages each, whose
 * second parts arrive before the first recorder's second part (a unit larger than a bus message:
 * only a checkpoint of more than BUS_BATCH_MAX_ROWS levels). Both halves are then the book at the
 * same instant, differing at most in levels deeper than a REST snapshot reached.
 */
import {
  BOOK_CHECKPOINT_ROWS_MAX,
  BOOK_EVENT_ROWS_MAX,
  BOOK_SNAPSHOT_LEVELS_MAX,
} from "../model/book-rows.ts";
import type { BookTableName } from "../model/tables.ts";

/** Ids per unit: a unit's rows have ids [unit × span, (unit + 1) × span) (model/book-rows.ts). */
export const BOOK_UNIT_SPAN: Readonly<Record<BookTableName, number>> = {
  book_deltas: BOOK_EVENT_ROWS_MAX,
  book_snapshots: 2 * BOOK_SNAPSHOT_LEVELS_MAX,
  book_checkpoints: BOOK_CHECKPOINT_ROWS_MAX,
};

/**
 * The rows to keep, as indexes sorted by id. `ids[i]` is row i's id and `msg[i]` the message it
 * came in, rows in arrival order; `stored` the ids already in files between the lowest kept unit's
 * first id and the highest id here. Returns the kept indexes; the rest are duplicates.
 */
export function keepBookParts(
  table: BookTableName,
  ids: ArrayLike<number>,
  msg: ArrayLike<number>,
  count: number,
  stored: ReadonlySet<number>,
): number[] {
  const span = BOOK_UNIT_SPAN[table];
  const highest = new Map<number, number>();
  for (const id of stored) {
    const unit = Math.floor(id / span);
    if (id > (highest.get(unit) ?? -1)) highest.set(unit, id);
  }
  const keep: number[] = [];
  // A part is a run of rows of one unit from one message: a recorder puts a unit's rows at once
  // (src/book/capture.ts), so they stay together through the ring, its batch and the message.
  for (let start = 0; start < count; ) {
    const unit = Math.floor(ids[start]! / span);
    let end = start + 1;
    let low = ids[start]!;
    let high = low;
    for (; end < count && msg[end] === msg[start] && Math.floor(ids[end]! / span) === unit; end++) {
      low = Math.min(low, ids[end]!);
      high = Math.max(high, ids[end]!);
    }
    if (low > (highest.get(unit) ?? -1)) {
      highest.set(unit, high);
      for (let i = start; i < end; i++) keep.push(i);
    }
    start = end;
  }
  keep.sort((a, b) => ids[a]! - ids[b]!);
  // One message never holds an id twice (a recorder's event is one put); drop any anyway.
  return keep.filter((i, k) => k === 0 || ids[i] !== ids[keep[k - 1]!]);
}

/** The first id of the unit holding `id` (where a writer's look into its files starts). */
export function unitStart(table: BookTableName, id: number): number {
  const span = BOOK_UNIT_SPAN[table];
  return Math.floor(id / span) * span;
}
