/** Per-symbol order books in typed arrays and the synchroniser that keeps them continuous. */
export { BEST_ASK, BEST_BID, OrderBook } from "./book.ts";
export { DIFF_BUFFER_MAX_EVENTS, DIFF_BUFFER_MAX_LEVELS, DiffBuffer } from "./diff-buffer.ts";
export {
  BOOK_MAX_LEVELS_PER_SIDE,
  BookLevels,
  BookSide,
  LEVEL_BEYOND,
  LEVEL_EXACT,
  LEVEL_UNVERIFIED,
} from "./side.ts";
export {
  BookSync,
  type BookSyncOptions,
  DIFF_APPLIED,
  DIFF_BUFFERED,
  DIFF_DUPLICATE,
  DIFF_GAP,
  type ResyncCause,
  type ResyncRecord,
  SNAPSHOT_GAP,
  SNAPSHOT_IGNORED,
  SNAPSHOT_INVALID,
  SNAPSHOT_SYNCED,
  SNAPSHOT_TOO_OLD,
  type SnapshotRequester,
  SYNC_IDLE,
  SYNC_SYNCED,
  SYNC_WAITING,
} from "./sync.ts";
