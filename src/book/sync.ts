/**
 * The per-symbol book synchroniser: Binance's "how to manage a local order book correctly"
 * (https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#how-to-manage-a-local-order-book-correctly),
 * as pure logic. Time comes in as arguments; the REST snapshot is asked for through an injected
 * requester, whose answer comes back through onSnapshot / onSnapshotFailed (the REST client, the
 * weight budget and the pacing of many symbols belong to the caller and are not built yet).
 *
 * 1. Buffer diff events; note the first buffered `U`; request a snapshot.
 * 2. A snapshot with lastUpdateId < that `U` is too old: request another.
 * 3. Drop buffered events with `u` ≤ lastUpdateId; apply the rest in order. (The first applied
 *    event then holds lastUpdateId + 1 within [U, u].)
 * 4. Afterwards an event with `u` ≤ the book's id is a duplicate, ignored (not a gap); an event
 *    whose `U` is above the book's id + 1 means updates were missed: the book is marked not
 *    synced and rebuilt from a new snapshot, and when it is synced again a ResyncRecord says
 *    which update ids it lost, why, and from when to when.
 * A buffered sequence with its own hole (a `U` above the previous `u` + 1 after the snapshot)
 * is the same gap: the snapshot is discarded and another requested.
 */
import type { DepthFrame } from "../decode/binance/index.ts";
import { OrderBook } from "./book.ts";
import { DiffBuffer } from "./diff-buffer.ts";

/** No diff seen yet. */
export const SYNC_IDLE = 0;
/** Buffering diffs, a snapshot requested. */
export const SYNC_WAITING = 1;
/** The book is continuous from its last snapshot. */
export const SYNC_SYNCED = 2;

/** onDiff outcomes. */
export const DIFF_BUFFERED = 0;
export const DIFF_APPLIED = 1;
export const DIFF_DUPLICATE = 2;
/** Updates were missed: the book is no longer synced and a snapshot was requested. */
export const DIFF_GAP = 3;

/** onSnapshot outcomes. */
export const SNAPSHOT_SYNCED = 0;
/** Not the answer to the current request (late, or after a newer request): ignored. */
export const SNAPSHOT_IGNORED = 1;
/** Older than the buffered diffs (lastUpdateId < first U): another was requested. */
export const SNAPSHOT_TOO_OLD = 2;
/** The buffered diffs after it have a hole: another was requested. */
export const SNAPSHOT_GAP = 3;
/** Levels out of order or a zero quantity: another was requested. */
export const SNAPSHOT_INVALID = 4;

/** Why a synced book lost continuity (the capture ledgers it as cause `book_resync`, src/book/capture.ts). */
export type ResyncCause = "update_id_gap" | "reset";

/**
 * One loss of continuity of a synced book, emitted when it is synced again: the input of a
 * `book_resync` gap-ledger entry. Between startUs and endUs the book was not exact.
 */
export interface ResyncRecord {
  readonly symbolId: number;
  readonly cause: ResyncCause;
  /** Update ids whose individual effect the book did not apply: fromUpdateId..toUpdateId. */
  readonly fromUpdateId: number;
  /** The new snapshot's lastUpdateId: the book is exact and continuous again after it. */
  readonly toUpdateId: number;
  /** Of those, the ids known never received (the first hole seen); -1..-1 when none (a reset). */
  readonly missingFromId: number;
  readonly missingToId: number;
  /** When the loss was detected and when the book was synced again (µs, caller's clock). */
  readonly startUs: number;
  readonly endUs: number;
  /** Snapshots requested to get back in sync. */
  readonly snapshotRequests: number;
}

/** Asks for a REST snapshot of `symbolId`; the answer must come back with the same `requestNo`. */
export type SnapshotRequester = (symbolId: number, requestNo: number) => void;

/**
 * What the book became, event by event, for storage (src/book/rows.ts): a snapshot that synced it,
 * and each buffered diff applied after that snapshot. (A live diff's DIFF_APPLIED is the caller's
 * to act on: it holds the frame.) Called synchronously, before onSnapshot returns.
 */
export interface AppliedEvents {
  snapshot(sync: BookSync, f: DepthFrame): void;
  buffered(sync: BookSync, b: DiffBuffer, e: number): void;
}

export interface BookSyncOptions {
  /** Levels per side asked of the snapshot (Binance `limit`, ≤ 5000). */
  readonly snapshotLimit: number;
  readonly maxLevelsPerSide?: number;
  readonly bufferMaxEvents?: number;
  readonly bufferMaxLevels?: number;
  readonly applied?: AppliedEvents;
}

export class BookSync {
  readonly book: OrderBook;
  readonly #request: SnapshotRequester;
  readonly #onResync: (r: ResyncRecord) => void;
  readonly #limit: number;
  readonly #applied: AppliedEvents | undefined;
  readonly buffer: DiffBuffer;
  state = SYNC_IDLE;
  /** The current request's number (answers to older ones are ignored). */
  requestNo = 0;
  // counters
  duplicates = 0;
  gaps = 0;
  snapshotsTooOld = 0;
  snapshotsInvalid = 0;
  snapshotsIgnored = 0;
  snapshotFailures = 0;
  // the open resync, if any (startUs < 0: none)
  #cause: ResyncCause = "update_id_gap";
  #startUs = -1;
  #fromId = 0;
  #missingFrom = -1;
  #missingTo = -1;
  #requests = 0;
  #everSynced = false;

  constructor(
    symbolId: number,
    requester: SnapshotRequester,
    onResync: (r: ResyncRecord) => void,
    o: BookSyncOptions,
  ) {
    this.book = new OrderBook(symbolId, o.maxLevelsPerSide);
    this.#request = requester;
    this.#onResync = onResync;
    this.#limit = o.snapshotLimit;
    this.#applied = o.applied;
    this.buffer = new DiffBuffer(o.bufferMaxEvents, o.bufferMaxLevels);
  }

  get synced(): boolean {
    return this.state === SYNC_SYNCED;
  }

  /** A decoded diff of this symbol (`nowUs`: the caller's clock, for resync records). */
  onDiff(f: DepthFrame, nowUs: number): number {
    if (this.state === SYNC_SYNCED) {
      const id = this.book.updateId;
      if (f.lastId <= id) {
        this.duplicates++;
        return DIFF_DUPLICATE;
      }
      if (f.firstId > id + 1) {
        this.gaps++;
        this.#open("update_id_gap", nowUs, id + 1, id + 1, f.firstId - 1);
        this.#wait();
        this.buffer.push(f);
        return DIFF_GAP;
      }
      this.book.applyDiff(f);
      return DIFF_APPLIED;
    }
    if (this.state === SYNC_IDLE) this.#wait();
    this.buffer.push(f);
    return DIFF_BUFFERED;
  }

  /** The answer to request `requestNo`: a decoded REST snapshot. */
  onSnapshot(f: DepthFrame, requestNo: number, nowUs: number): number {
    if (this.state !== SYNC_WAITING || requestNo !== this.requestNo) {
      this.snapshotsIgnored++;
      return SNAPSHOT_IGNORED;
    }
    const b = this.buffer;
    const snapId = f.lastId;
    if (b.n > 0 && snapId < b.first[0]!) {
      this.snapshotsTooOld++;
      this.#ask();
      return SNAPSHOT_TOO_OLD;
    }
    if (!this.book.applySnapshot(f, this.#limit, nowUs)) {
      this.snapshotsInvalid++;
      this.#ask();
      return SNAPSHOT_INVALID;
    }
    // The snapshot is told before the buffered events that continue it, so storage keeps order;
    // a hole found below discards this book again, and its rows stay as what K2 had until then.
    this.#applied?.snapshot(this, f);
    let e = 0;
    while (e < b.n && b.last[e]! <= snapId) e++;
    for (; e < b.n; e++) {
      const id = this.book.updateId;
      if (b.first[e]! > id + 1) {
        // A hole inside the buffer: this snapshot cannot be continued. Keep the events from the
        // hole on (the next snapshot must reach them) and start again.
        this.gaps++;
        if (this.#everSynced && this.#startUs < 0)
          this.#open("update_id_gap", nowUs, id + 1, id + 1, b.first[e]! - 1);
        b.dropFirst(e);
        this.#ask();
        return SNAPSHOT_GAP;
      }
      if (b.last[e]! <= id) continue; // a duplicate inside the buffer
      const t = b.timeUs[e]!;
      this.book.applyLevels(this.book.bids, b.pxw, b.qtyw, b.bidAt[e]!, b.bidN[e]!, t);
      this.book.applyLevels(this.book.asks, b.pxw, b.qtyw, b.askAt[e]!, b.askN[e]!, t);
      this.book.updateId = b.last[e]!;
      this.#applied?.buffered(this, b, e);
    }
    b.clear();
    this.state = SYNC_SYNCED;
    this.#everSynced = true;
    if (this.#startUs >= 0) this.#close(snapId, nowUs);
    return SNAPSHOT_SYNCED;
  }

  /** Request `requestNo` failed (429, 418, timeout...): ask again; the requester paces retries. */
  onSnapshotFailed(requestNo: number): void {
    if (this.state !== SYNC_WAITING || requestNo !== this.requestNo) return;
    this.snapshotFailures++;
    this.#ask();
  }

  /**
   * Give up the current book (e.g. it disagreed with the partial-depth stream): not synced until
   * a new snapshot; a synced book's loss is reported as cause "reset".
   */
  reset(nowUs: number): void {
    if (this.state === SYNC_SYNCED) {
      const id = this.book.updateId;
      this.#open("reset", nowUs, id + 1, -1, -1);
    }
    if (this.state !== SYNC_IDLE) this.#wait();
  }

  #open(cause: ResyncCause, nowUs: number, fromId: number, missingFrom: number, missingTo: number): void {
    this.#cause = cause;
    this.#startUs = nowUs;
    this.#fromId = fromId;
    this.#missingFrom = missingFrom;
    this.#missingTo = missingTo;
    this.#requests = 0;
  }

  #close(snapId: number, nowUs: number): void {
    this.#onResync({
      symbolId: this.book.symbolId,
      cause: this.#cause,
      fromUpdateId: this.#fromId,
      toUpdateId: snapId,
      missingFromId: this.#missingFrom,
      missingToId: this.#missingTo,
      startUs: this.#startUs,
      endUs: nowUs,
      snapshotRequests: this.#requests,
    });
    this.#startUs = -1;
  }

  /** Not synced: buffer from now on and ask for a snapshot. */
  #wait(): void {
    this.state = SYNC_WAITING;
    this.buffer.clear();
    this.#ask();
  }

  #ask(): void {
    this.requestNo++;
    this.#requests++;
    this.#request(this.book.symbolId, this.requestNo);
  }
}
