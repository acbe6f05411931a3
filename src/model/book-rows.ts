/**
 * How order-book rows ride the union row (model/row.ts) through ring → WAL → Parquet, and the
 * synthetic id that makes their storage exactly once. Storage dedups by (table, symbol, id) with
 * ids rising per symbol; book events have no per-row id, so one is composed from what is unique
 * and rising:
 *
 * | table            | id                                         | unique because                     |
 * |------------------|--------------------------------------------|------------------------------------|
 * | book_deltas      | u × 2^14 + position of the level in event  | applied events have rising `u`; a  |
 * |                  | (snapshot rows: lastUpdateId × 2^14 + pos) | snapshot's id is above every `u`   |
 * |                  |                                            | applied before it, below every one |
 * |                  |                                            | after it                           |
 * | book_snapshots   | instant ms × 2^9 + (ask ? 2^8 : 0) + level | one snapshot per aligned instant   |
 * | book_checkpoints | instant s × 2^16 + position in the book    | one checkpoint per aligned second  |
 *
 * Column use per table (row.ts names; `flags` bits below):
 *
 * | column        | book_deltas               | book_snapshots         | book_checkpoints        |
 * |---------------|---------------------------|------------------------|-------------------------|
 * | id            | delta_id                  | snapshot_id            | checkpoint_id           |
 * | first_id      | `U` (snapshot: lastUpdId) | book's update id       | book's update id        |
 * | last_id       | `u` (snapshot: lastUpdId) | level (0 = best)       | 0                       |
 * | trade_time_us | 0                         | last applied event's E | level last known (µs)   |
 * | event_time_us | `E` (snapshot: recv time) | the instant (µs)       | the instant (µs)        |
 * | recv_time_us  | ours                      | last applied event's   | ours                    |
 * | dec0, dec1    | price, quantity (0: gone) | price, quantity        | price, quantity         |
 * | flags         | ASK, SNAPSHOT             | ASK, UNVERIFIED        | ASK, BEYOND, UNVERIFIED |
 *
 * Files are cut per (table, symbol, UTC day of `event_time_us`) like every table: for deltas the
 * exchange's `E`, for snapshots and checkpoints the instant. (A snapshot's instant sits in
 * `event_time_us`, not `trade_time_us`, so that its partition and the catalog's time pruning
 * follow the instant: a quiet symbol's last event may be hours older than its snapshot.)
 *
 * Stored columns (model/tables.ts) from these slots (sink/parquet/schema.ts TABLE_SLOTS): `side`
 * "ask" when ASK is set, else "bid"; `is_snapshot` = SNAPSHOT; `is_verified` = not UNVERIFIED;
 * `level_state` "unverified" when UNVERIFIED is set, else "beyond" when BEYOND is, else "exact";
 * snapshot_time_us and checkpoint_time_us ← the event_time_us slot; a snapshot's stored
 * event_time_us and a checkpoint's known_time_us ← the trade_time_us slot; `level` ← last_id.
 */

/** Rows one event may produce (a 5,000-per-side snapshot is 10,000). */
export const BOOK_EVENT_ROWS_MAX = 2 ** 14;
/** Update ids above this cannot be composed into a delta id below 2^53 (BTCUSDT is ~1e11). */
export const BOOK_UPDATE_ID_MAX = Math.floor(Number.MAX_SAFE_INTEGER / BOOK_EVENT_ROWS_MAX) - 1;
/** Levels per side a stored snapshot may hold (K2_BOOK_LEVELS is bounded by it). */
export const BOOK_SNAPSHOT_LEVELS_MAX = 2 ** 8;
/** Rows one checkpoint may hold: both sides of the deepest book (side.ts BOOK_MAX_LEVELS_PER_SIDE). */
export const BOOK_CHECKPOINT_ROWS_MAX = 2 ** 16;

/** flags: the level is on the ask side (bids otherwise). Bit 0 stays trades' buyer-maker. */
export const FLAG_ASK = 2;
/** flags: the row comes from a REST snapshot, not a diff event. */
export const FLAG_SNAPSHOT = 4;
/** flags: the level was beyond the last snapshot's depth and no update touched it since. */
export const FLAG_UNVERIFIED = 8;
/** flags: the level lies deeper than the last snapshot reached (known from diffs only). */
export const FLAG_BEYOND = 16;

export function bookDeltaId(updateId: number, position: number): number {
  return updateId * BOOK_EVENT_ROWS_MAX + position;
}

export function bookSnapshotId(instantMs: number, ask: boolean, level: number): number {
  return instantMs * (2 * BOOK_SNAPSHOT_LEVELS_MAX) + (ask ? BOOK_SNAPSHOT_LEVELS_MAX : 0) + level;
}

export function bookCheckpointId(instantS: number, position: number): number {
  return instantS * BOOK_CHECKPOINT_ROWS_MAX + position;
}
