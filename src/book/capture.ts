/**
 * The order-book capture (issue 18): depth frames → one synchroniser per symbol → rows for
 * storage, REST snapshots fetched as the synchronisers ask, and continuity made data:
 * - every applied event (REST snapshot, buffered diff, live diff) becomes book_deltas rows;
 * - at each aligned K2_BOOK_SNAPSHOT_MS instant a synced book's top K2_BOOK_LEVELS per side
 *   becomes book_snapshots rows, and each K2_BOOK_CHECKPOINT_MS the whole book becomes
 *   book_checkpoints rows — an instant is emitted when the first event after it arrives (so the
 *   rows hold the book exactly as of the instant), or by the timer once a quiet book passed it;
 * - every resync, and the update ids a restart missed, is a `book_resync` ledger entry with the
 *   lost update-id range; a book not synced emits nothing and says so in `status`;
 * - rows storage refuses (full ring, failing WAL) break the stored sequence: the book is reset,
 *   which resyncs it and ledgers the loss like any other;
 * - the partial-depth stream (`depth20`), where its lastUpdateId equals the book's, must agree
 *   with the book's exact top levels; a disagreement resets the book.
 */
import {
  DEPTH_DIFF,
  DEPTH_PARTIAL,
  DecodeStatus,
  DepthDecoder,
  DepthFrame,
  describeDepthReject,
  type SymbolLookup,
} from "../decode/binance/index.ts";
import type { GapLedger } from "../ingest/gap-ledger.ts";
import { BOOK_CHECKPOINT_ROWS_MAX, BOOK_EVENT_ROWS_MAX, FLAG_SNAPSHOT } from "../model/book-rows.ts";
import { allocRowColumns, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { CapturedBook, copyFrame, rebuilt } from "./book-state.ts";
import { checkAgainstPartial } from "./partial-check.ts";
import type { RebuiltLevel } from "./rebuild.ts";
import { BookRowsError, bufferedRows, checkpointRows, type EventHead, frameRows, topRows } from "./rows.ts";
import { BookLevels } from "./side.ts";
import { type DepthRest, type SnapshotBreaker, SnapshotFetcher } from "./snapshots.ts";
import {
  BookSync,
  DIFF_APPLIED,
  type ResyncRecord,
  SNAPSHOT_SYNCED,
  SYNC_SYNCED,
  SYNC_WAITING,
} from "./sync.ts";

export const TICK_GRACE_MS = 1000;
/** Book.nextTopMs after a sync: the instants are scheduled from the last event applied. */
const RESCHEDULE = -2;

/**
 * Where the rows go (Ingest.onBookRows: WAL, then ring): rows from..from+count-1 of `rows` as one
 * record, all or none; false when refused (full ring, failing WAL, shed).
 */
export interface BookRowStore {
  put(rows: RowColumns, from: number, count: number): boolean;
  /** Rows one put may hold (a checkpoint goes in chunks of it). */
  readonly maxRowsPerPut: number;
}

export interface BookCaptureOptions {
  readonly snapshotLimit: number;
  readonly snapshotMs: number;
  readonly levels: number;
  readonly checkpointMs: number;
  /** Check the books against the partial-depth stream (K2_STREAMS lists depth20). */
  readonly checkPartial: boolean;
}

export interface BookCaptureDeps {
  readonly symbols: SymbolTable;
  readonly lookup: SymbolLookup;
  readonly rest: DepthRest;
  readonly breaker?: SnapshotBreaker;
  readonly ledger: GapLedger;
  readonly store: BookRowStore;
  readonly nowUs: () => number;
  /** The last update id a previous run stored for the symbol, and its event time: the restart's loss starts after it. */
  readonly stored?: (symbol: string) => { updateId: number; eventTimeUs: number } | undefined;
  readonly onReject?: (frame: string, status: number, why: string) => void;
  readonly log?: { warn(o: object, msg: string): void; info(o: object, msg: string): void };
}

/** What /v1/book and /health say of one book. */
export interface BookStatus {
  symbol: string;
  state: "idle" | "waiting" | "synced";
  update_id: number;
  snapshot_time_us: number;
  last_event_time_us: number;
  resyncs: number;
  duplicates: number;
  partial_checks: number;
  partial_mismatches: number;
}

export class BookCapture {
  readonly #d: BookCaptureDeps;
  readonly #o: BookCaptureOptions;
  readonly #decoder: DepthDecoder;
  readonly #frame = new DepthFrame();
  readonly #snap = new DepthFrame();
  readonly #books: (CapturedBook | undefined)[] = [];
  readonly #fetcher: SnapshotFetcher;
  readonly #rows: RowColumns;
  readonly #bids = new BookLevels();
  readonly #asks = new BookLevels();
  readonly #head: EventHead = { symbolId: 0, firstId: 0, lastId: 0, eventTimeUs: 0, recvTimeUs: 0, flags: 0 };
  /** Rows storage refused (each resets its book). */
  refusals = 0;
  frames = 0;
  rejected = 0;

  constructor(d: BookCaptureDeps, o: BookCaptureOptions) {
    this.#d = d;
    this.#o = o;
    this.#decoder = new DepthDecoder(d.lookup);
    this.#rows = allocRowColumns(Math.max(BOOK_EVENT_ROWS_MAX, BOOK_CHECKPOINT_ROWS_MAX));
    this.#fetcher = new SnapshotFetcher(
      d.rest,
      d.breaker,
      o.snapshotLimit,
      (id) => d.symbols.name(id),
      {
        ok: (sym, no, body, recvUs) => this.#onSnapshotBody(sym, no, body, recvUs),
        failed: (sym, no, e) => {
          d.log?.warn({ symbol: d.symbols.name(sym), err: e.message }, "book snapshot failed");
          this.#books[sym]?.sync.onSnapshotFailed(no);
        },
      },
      d.nowUs,
    );
    for (const name of d.symbols.names()) this.#book(d.symbols.id(name)!);
  }

  #book(sym: number): CapturedBook {
    let b = this.#books[sym];
    if (b) return b;
    const name = this.#d.symbols.name(sym);
    const sync = new BookSync(
      sym,
      (s, no) => this.#fetcher.ask(s, no),
      (r) => this.#onResync(r),
      {
        snapshotLimit: this.#o.snapshotLimit,
        applied: {
          snapshot: (s, f) => this.#onSnapshotApplied(this.#books[s.book.symbolId]!, s, f),
          buffered: (s, buf, e) => {
            const book = this.#books[s.book.symbolId]!;
            const h = this.#headOf(
              s.book.symbolId,
              buf.first[e]!,
              buf.last[e]!,
              buf.timeUs[e]!,
              buf.recvUs[e]!,
              0,
            );
            let n: number;
            try {
              n = bufferedRows(
                this.#rows,
                0,
                h,
                buf.pxw,
                buf.qtyw,
                buf.bidAt[e]!,
                buf.bidN[e]!,
                buf.askAt[e]!,
                buf.askN[e]!,
              );
            } catch (err) {
              this.#unstorable(book, err);
              return;
            }
            this.#put(book, n);
            book.lastEventUs = h.eventTimeUs;
            book.lastRecvUs = h.recvTimeUs;
          },
        },
      },
    );
    b = new CapturedBook(name, sync);
    b.restart = this.#d.stored?.(name);
    this.#books[sym] = b;
    return b;
  }

  /**
   * A WebSocket frame: true when it was a depth frame (stored, buffered, checked or refused),
   * false when it is none of the depth shapes (the caller goes on with it).
   */
  onFrame(frame: string, recvUs: number): boolean {
    const f = this.#frame;
    const st = this.#decoder.decode(frame, f, recvUs, true);
    if (st === DecodeStatus.UNKNOWN_EVENT || st === DecodeStatus.NOT_CONFIGURED) return false;
    this.frames++;
    if (st !== DecodeStatus.OK) {
      this.rejected++;
      this.#d.onReject?.(frame, st, describeDepthReject(st, f));
      return true;
    }
    const book = this.#book(f.symbolId);
    if (f.kind === DEPTH_PARTIAL) {
      if (this.#o.checkPartial) this.#checkPartial(book, f);
      return true;
    }
    if (f.kind !== DEPTH_DIFF) return true;
    const sync = book.sync;
    const synced = sync.state === SYNC_SYNCED;
    if (synced && !book.pending) this.#emitDue(book, f.eventTimeUs / 1000);
    // A gap found now makes the book inexact from just after the last event it holds.
    if (sync.onDiff(f, synced ? book.lastEventUs + 1 : this.#d.nowUs()) === DIFF_APPLIED) {
      if (book.pending) this.#storeSnapshot(book, book.snapCopy!, f.eventTimeUs);
      this.#storeFrame(book, f, 0);
    }
    return true;
  }

  /**
   * Emit the instants quiet books have passed (called on a timer). An event stamped before an
   * instant may still be on its way: the timer waits TICK_GRACE_MS past it (events arriving later
   * than that still apply, to the next instant).
   */
  tick(): void {
    const nowMs = this.#d.nowUs() / 1000 - TICK_GRACE_MS;
    for (const b of this.#books) {
      if (!b || b.sync.state !== SYNC_SYNCED) continue;
      // No diff since the snapshot for a grace period: nothing changed, so the stream had
      // published its state when it arrived.
      if (b.pending && b.snapCopy!.recvTimeUs / 1000 < nowMs)
        this.#storeSnapshot(b, b.snapCopy!, b.snapCopy!.recvTimeUs);
      if (!b.pending) this.#emitDue(b, nowMs);
    }
  }

  status(symbol: string): BookStatus | undefined {
    const id = this.#d.symbols.id(symbol);
    const b = id === undefined ? undefined : this.#books[id];
    if (!b) return undefined;
    const s = b.sync;
    return {
      symbol: b.name,
      state: s.state === SYNC_SYNCED ? "synced" : s.state === SYNC_WAITING ? "waiting" : "idle",
      update_id: s.book.updateId,
      snapshot_time_us: s.book.snapshotUs,
      last_event_time_us: b.lastEventUs,
      resyncs: b.resyncs,
      duplicates: s.duplicates,
      partial_checks: b.partialChecks,
      partial_mismatches: b.partialMismatches,
    };
  }

  /**
   * The live book's best `levels` per side with its status; no level while it is not synced (a
   * book that lost continuity is never served as if it had not). undefined: no such book.
   */
  live(
    symbol: string,
    levels: number,
  ): (BookStatus & { bids: RebuiltLevel[]; asks: RebuiltLevel[] }) | undefined {
    const st = this.status(symbol);
    if (!st) return undefined;
    const book = this.#books[this.#d.symbols.id(symbol)!]!.sync.book;
    const synced = st.state === "synced";
    if (synced) book.top(levels, this.#bids, this.#asks);
    return { ...st, bids: synced ? rebuilt(this.#bids) : [], asks: synced ? rebuilt(this.#asks) : [] };
  }

  /** The live synchroniser of a symbol (the live /v1/book reads its book when synced). */
  syncOf(symbol: string): BookSync | undefined {
    const id = this.#d.symbols.id(symbol);
    return id === undefined ? undefined : this.#books[id]?.sync;
  }

  /** Books synced now, and resyncs since start (metrics). */
  counts(): { books: number; synced: number; resyncs: number } {
    let books = 0;
    let synced = 0;
    let resyncs = 0;
    for (const b of this.#books) {
      if (!b) continue;
      books++;
      if (b.sync.state === SYNC_SYNCED) synced++;
      resyncs += b.resyncs;
    }
    return { books, synced, resyncs };
  }

  /** Books waiting for a REST snapshot. */
  get waitingSnapshots(): number {
    return this.#fetcher.waiting;
  }

  get snapshotRequests(): number {
    return this.#fetcher.requests;
  }

  stop(): void {
    this.#fetcher.stop();
  }

  #onSnapshotBody(sym: number, no: number, body: string, recvUs: number): void {
    const b = this.#books[sym];
    if (!b) return;
    const st = this.#decoder.decodeSnapshot(body, sym, this.#snap, recvUs);
    if (st !== DecodeStatus.OK) {
      this.#d.log?.warn(
        { symbol: b.name, why: describeDepthReject(st, this.#snap) },
        "book snapshot refused",
      );
      b.sync.onSnapshotFailed(no);
      return;
    }
    if (b.sync.onSnapshot(this.#snap, no, recvUs) === SNAPSHOT_SYNCED) this.#fetcher.synced(sym);
  }

  /**
   * A snapshot became the book. Its state is that of update id L, which the diff stream publishes
   * with the first event whose `u` ≥ L: that event's E is the snapshot's time (a rebuild at an
   * instant then holds it exactly when the stream had reached it). A buffered event may already
   * be that one; otherwise the next live diff is, and the snapshot waits for it.
   */
  #onSnapshotApplied(b: CapturedBook, s: BookSync, f: DepthFrame): void {
    const buf = s.buffer;
    for (let e = 0; e < buf.n; e++)
      if (buf.last[e]! >= f.lastId) {
        this.#storeSnapshot(b, f, buf.timeUs[e]!);
        return;
      }
    b.snapCopy = copyFrame(f, b.snapCopy);
    b.pending = true;
  }

  #storeSnapshot(b: CapturedBook, f: DepthFrame, eventUs: number): void {
    b.pending = false;
    this.#storeFrame(b, f, FLAG_SNAPSHOT, eventUs);
    this.#anchor(b, eventUs);
  }

  /**
   * The book is exact from stream time `eventUs` on: schedule its instants, and ledger the losses
   * that end here — the resync just done, or the downtime since a previous run's last event.
   */
  #anchor(b: CapturedBook, eventUs: number): void {
    b.anchoredUs = eventUs;
    // Buffered diffs applied right after the snapshot may reach further than its time: the next
    // instants are those after the last event applied, scheduled when first due (#emitDue).
    b.nextTopMs = b.nextCheckpointMs = RESCHEDULE;
    const snapId = b.sync.book.updateId;
    if (b.restart && snapId > b.restart.updateId + 1)
      b.open.push({
        fromId: b.restart.updateId + 1,
        toId: snapId,
        startUs: b.restart.eventTimeUs + 1,
        detail:
          "restart: the updates between the previous run's last stored event and this run's first snapshot",
      });
    b.restart = undefined;
    for (const o of b.open.splice(0))
      this.#ledger(b.name, o.fromId, o.toId, o.startUs, Math.max(eventUs, o.startUs), o.detail);
  }

  /** Called when a book is synced again, after its snapshot was applied (#anchor may already have run). */
  #onResync(r: ResyncRecord): void {
    const b = this.#books[r.symbolId];
    if (!b) return;
    b.resyncs++;
    const missing = r.missingFromId >= 0 ? `; ids ${r.missingFromId}-${r.missingToId} never received` : "";
    const o = {
      fromId: r.fromUpdateId,
      toId: r.toUpdateId,
      startUs: r.startUs,
      detail: `${r.cause}${missing}; not synced for ${Math.round((r.endUs - r.startUs) / 1000)} ms; ${r.snapshotRequests} snapshot request(s)`,
    };
    if (b.pending) b.open.push(o);
    else this.#ledger(b.name, o.fromId, o.toId, o.startUs, Math.max(b.anchoredUs, o.startUs), o.detail);
  }

  /** A book_resync entry: the update-id range whose individual effect is not stored; never repairable. */
  #ledger(symbol: string, from: number, to: number, startUs: number, endUs: number, detail: string): void {
    const l = this.#d.ledger;
    const e = l.open("book_deltas", symbol, from, Math.max(from, to), "book_resync", startUs);
    l.set(e, "unrepaired", endUs, detail);
    this.#d.log?.info({ symbol, from, to, detail }, "book resynced");
  }

  #headOf(
    sym: number,
    first: number,
    last: number,
    eventUs: number,
    recvUs: number,
    flags: number,
  ): EventHead {
    const h = this.#head;
    h.symbolId = sym;
    h.firstId = first;
    h.lastId = last;
    h.eventTimeUs = eventUs;
    h.recvTimeUs = recvUs;
    h.flags = flags;
    return h;
  }

  #storeFrame(b: CapturedBook, f: DepthFrame, flags: number, eventUs = f.eventTimeUs): void {
    const h = this.#headOf(b.sync.book.symbolId, f.firstId, f.lastId, eventUs, f.recvTimeUs, flags);
    let n: number;
    try {
      n = frameRows(this.#rows, 0, h, f);
    } catch (e) {
      this.#unstorable(b, e);
      return;
    }
    this.#put(b, n);
    b.lastEventUs = eventUs;
    b.lastRecvUs = f.recvTimeUs;
  }

  /** An event no row can hold (rows.ts says why): the book resyncs, and the ledger says so. */
  #unstorable(b: CapturedBook, e: unknown): void {
    if (!(e instanceof BookRowsError)) throw e;
    this.#d.log?.warn({ symbol: b.name, err: e.message }, "book event cannot be stored");
    b.sync.reset(b.lastEventUs + 1);
  }

  /** Rows into storage; a refusal breaks the stored sequence: the book resets (a ledgered resync). */
  #put(b: CapturedBook, n: number): void {
    const store = this.#d.store;
    for (let from = 0; from < n; from += store.maxRowsPerPut) {
      if (!store.put(this.#rows, from, Math.min(store.maxRowsPerPut, n - from))) {
        this.refusals++;
        b.sync.reset(b.lastEventUs + 1);
        return;
      }
    }
  }

  /** Emit every instant before `beforeMs` the book has passed: top snapshots, then checkpoints. */
  #emitDue(b: CapturedBook, beforeMs: number): void {
    const book = b.sync.book;
    if (b.nextTopMs === RESCHEDULE) {
      const lastMs = b.lastEventUs / 1000;
      b.nextTopMs = (Math.floor(lastMs / this.#o.snapshotMs) + 1) * this.#o.snapshotMs;
      b.nextCheckpointMs = (Math.floor(lastMs / this.#o.checkpointMs) + 1) * this.#o.checkpointMs;
    }
    // Only the last passed instant is emitted: the book was the same at the ones skipped before it.
    // Levels are bounded by the config (≤ 256) and the book (≤ BOOK_MAX_LEVELS_PER_SIDE): these
    // rows always fit, so no BookRowsError is expected here.
    if (b.nextTopMs >= 0 && beforeMs > b.nextTopMs) {
      const at = Math.floor((beforeMs - 1e-3) / this.#o.snapshotMs) * this.#o.snapshotMs;
      const o = this.#o;
      const n = topRows(
        this.#rows,
        0,
        book,
        at,
        o.levels,
        b.lastEventUs,
        b.lastRecvUs,
        this.#bids,
        this.#asks,
      );
      this.#put(b, n);
      b.nextTopMs = at + this.#o.snapshotMs;
    }
    if (b.nextCheckpointMs >= 0 && beforeMs > b.nextCheckpointMs) {
      const at = Math.floor((beforeMs - 1e-3) / this.#o.checkpointMs) * this.#o.checkpointMs;
      this.#put(b, checkpointRows(this.#rows, 0, book, at / 1000, this.#d.nowUs(), this.#bids, this.#asks));
      b.nextCheckpointMs = at + this.#o.checkpointMs;
    }
  }

  #checkPartial(b: CapturedBook, f: DepthFrame): void {
    const sync = b.sync;
    if (sync.state !== SYNC_SYNCED || sync.book.updateId !== f.lastId) return;
    b.partialChecks++;
    const why = checkAgainstPartial(sync.book, f, this.#bids, this.#asks);
    if (why === null) return;
    b.partialMismatches++;
    this.#d.log?.warn(
      { symbol: b.name, update_id: f.lastId, why },
      "book disagrees with the partial-depth stream",
    );
    sync.reset(b.lastEventUs + 1);
  }
}
