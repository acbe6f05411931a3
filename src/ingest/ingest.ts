/**
 * Frames → rows: the hot path that joins decode, id continuity, the WAL and the ring.
 * For every text frame:
 *   claim a ring slot → decode into it → (trade/agg) continuity check → WAL append → commit.
 * Frames come as strings (onFrame), or, from K2's own WebSocket client, as the socket's bytes
 * (onFrameBytes): a row frame then never becomes a string (a quarter less CPU per row end to
 * end: native-bench/README.md, "Frames as bytes").
 * - A duplicate (reconnect/rotation overlap) is abandoned before the WAL: it costs nothing.
 * - A gap opens a ledger entry and is queued for REST repair.
 * - A frame that fails to decode goes to the dead-letter buffer; the connection stays up.
 * - Nothing accepted is lost silently: when the ring is full or the WAL refuses, the row's id is
 *   recorded in the gap ledger (cause overflow / storage) for REST repair, and counted.
 * Allocation-free on the string path's success (see native-bench/ingest.bench.ts); the bytes
 * path makes one small view per row, for the inline WAL's checksum.
 * Order-book rows come in as rows, not frames (onBookRows; ingest/book-rows.ts says why).
 */
import {
  DecodeStatus,
  decodeFastRange,
  decodeFrame,
  decodeKlineFrame,
  type SymbolLookup,
  statusName,
} from "../decode/binance/index.ts";
import { allocKlineColumns, type KlineColumns } from "../model/kline.ts";
import { allocRowColumns, copyRow, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, TABLE_ID_MAX, Table, type TableId } from "../model/tables.ts";
import type { DeadLetterBuffer } from "../ring/dead-letter.ts";
import type { Ring } from "../ring/ring.ts";
import { BOOK_ROWS_TAG, BookCommit, BookRecordEncoder, checkBookRows } from "./book-rows.ts";
import type { GapCause, GapEntry, GapLedger } from "./gap-ledger.ts";
import { LossRecorder } from "./loss.ts";
import { Seq, type Sequencer } from "./sequencer.ts";

/** Where a frame came from; stored in the WAL record so replay can tell. */
export const FrameTag = { STREAM: 0, REST: 1 } as const;
export type FrameTag = (typeof FrameTag)[keyof typeof FrameTag];

export interface Wal {
  /** Sequence number of the record, or -1 when the WAL refuses (buffer full, disk failing). */
  append(frame: string, recvTimeUs: number, tag: number): number;
  /** append() for a frame that is already checked UTF-8 bytes, `src[start, end)`. */
  appendBytes(src: Buffer, start: number, end: number, recvTimeUs: number, tag: number): number;
}

export interface IngestDeps {
  readonly ring: Ring;
  readonly lookup: SymbolLookup;
  readonly symbols: SymbolTable;
  readonly sequencer: Sequencer;
  readonly ledger: GapLedger;
  readonly deadLetters: DeadLetterBuffer;
  readonly wal?: Wal;
  /** A gap to repair from REST (trades / agg trades only). */
  readonly onGap: (gap: GapEntry) => void;
  /** The exchange asked us to reconnect (serverShutdown) on this shard. */
  readonly onServerShutdown: (shard: number) => void;
  /** Optional: tables currently shed by the degradation manager (quotes first). */
  readonly accepts?: (table: TableId) => boolean;
  /** Called with every committed row (hot window of the query engine). */
  readonly onRow?: (rows: RowColumns, slot: number, walSeq: number) => void;
  /**
   * Called with every kline frame (`<symbol>@kline_1m`, closed or not) decoded into row `slot`;
   * the callee copies what it keeps (the columns are reused by the next frame). Absent: kline
   * frames are ignored like any stream K2 does not store.
   */
  readonly onKline?: (klines: KlineColumns, slot: number) => void;
  /**
   * Offered every frame the row decoders do not know before klines are tried: true when it was a
   * depth frame (the order-book capture, src/book/capture.ts, took it). Absent: depth frames are
   * ignored like any stream K2 does not store.
   */
  readonly onDepth?: (frame: string, recvTimeUs: number) => boolean;
  readonly gapMaxIds: number;
  readonly nowUs: () => number;
  /** WAL seq per ring slot, shared with the sink's batcher (allocated here when not given). */
  readonly walSeqBySlot?: Float64Array;
}

export class Ingest {
  /** WAL sequence of the row in each ring slot (for deciding which WAL segments may go). */
  readonly walSeqBySlot: Float64Array;
  readonly statusCounts = new Float64Array(32);
  /** Rows accepted per table id. */
  readonly accepted = new Float64Array(TABLE_ID_MAX + 1);
  duplicates = 0;
  shed = 0;
  overflow = 0;
  walRefused = 0;
  /** Row frames taken by onFrameBytes (no string made); the rest of statusCounts came as strings. */
  framesAsBytes = 0;
  /** One-row scratch used to learn a frame's ids when the ring has no room for it. */
  readonly #scratch = allocRowColumns(1);
  /** One kline row: kline frames are not stored, only handed to `onKline`. */
  readonly #kline = allocKlineColumns(1);
  /** Kline frames decoded (any minute, closed or not). */
  klines = 0;
  /** Depth frames handed to the order-book capture. */
  depthFrames = 0;
  /** onBookRows calls refused as BAD_ROWS (a capture bug). */
  bookRefused = 0;
  readonly #bookRecords = new BookRecordEncoder();
  readonly #loss: LossRecorder;

  constructor(readonly deps: IngestDeps) {
    this.walSeqBySlot = deps.walSeqBySlot ?? new Float64Array(deps.ring.capacity);
    this.#loss = new LossRecorder(deps.ledger, deps.symbols, deps.onGap);
  }

  /** A text frame from a live connection (or a REST synthetic frame with tag REST). */
  onFrame(frame: string, recvTimeUs: number, shard: number, tag: FrameTag = FrameTag.STREAM): void {
    const d = this.deps;
    const ring = d.ring;
    let slot = ring.claim();
    let rows = ring.rows;
    if (slot < 0) {
      rows = this.#scratch;
      slot = 0;
    }
    const status = decodeFrame(frame, d.lookup, rows, slot, recvTimeUs, true);
    this.statusCounts[status]!++;
    if (status !== DecodeStatus.OK) {
      this.#notARow(status, frame, recvTimeUs, shard);
      return;
    }
    this.#row(rows, slot, frame, null, 0, 0, recvTimeUs, tag);
  }

  /**
   * The hot path without a string, for a live frame's bytes `frame[start, end)` (the raw client):
   * true when it was one of the fast decoder's layouts (trade, aggTrade, bookTicker: plain ASCII
   * only, so no UTF-8 check is needed) and went the way onFrame takes a row; false, with nothing
   * done, for anything else (control frames, depth, klines, junk, or a full ring), which comes
   * again as a string through onFrame.
   */
  onFrameBytes(frame: Buffer, start: number, end: number, recvTimeUs: number, _shard: number): boolean {
    const ring = this.deps.ring;
    if (ring.free() === 0) return false; // the string path counts the refusal once
    const slot = ring.claim();
    const rows = ring.rows;
    if (!decodeFastRange(frame, start, end, this.deps.lookup, rows, slot, recvTimeUs)) return false;
    this.statusCounts[DecodeStatus.OK]!++;
    this.framesAsBytes++;
    this.#row(rows, slot, null, frame, start, end, recvTimeUs, FrameTag.STREAM);
    return true;
  }

  /** A decoded row in `rows[slot]`: shed, continuity, WAL (the frame as a string or as bytes), commit. */
  #row(
    rows: RowColumns,
    slot: number,
    text: string | null,
    bytes: Buffer | null,
    start: number,
    end: number,
    recvTimeUs: number,
    tag: FrameTag,
  ): void {
    const d = this.deps;
    const kind = rows.kind[slot]! as TableId;
    const sym = rows.symbol_id[slot]!;
    const id = rows.id[slot]!;
    if (d.accepts && !d.accepts(kind)) {
      this.shed++;
      if (kind !== Table.quotes) this.#loss.record(kind, sym, id, "shed", d.nowUs());
      return;
    }
    // REST repair frames fill holes below the last id: they skip the continuity check (the
    // repairer asks only for ids inside an open gap, each once).
    if (tag === FrameTag.STREAM) {
      const seq = d.sequencer.check(kind, sym, id);
      if (seq === Seq.DUPLICATE) {
        this.duplicates++;
        return;
      }
      if (seq === Seq.GAP)
        this.#gap(
          kind,
          sym,
          d.sequencer.gapFrom,
          d.sequencer.gapTo,
          d.sequencer.gapAfterRestart ? "restart" : "stream",
        );
    }
    if (rows === this.#scratch) {
      this.overflow++;
      if (kind !== Table.quotes) this.#loss.record(kind, sym, id, "overflow", d.nowUs());
      return;
    }
    let walSeq = 0;
    if (d.wal) {
      walSeq =
        text !== null
          ? d.wal.append(text, recvTimeUs, tag)
          : d.wal.appendBytes(bytes!, start, end, recvTimeUs, tag);
      if (walSeq < 0) {
        this.walRefused++;
        if (kind !== Table.quotes) this.#loss.record(kind, sym, id, "storage", d.nowUs());
        return;
      }
    }
    this.walSeqBySlot[slot] = walSeq;
    d.ring.commit();
    this.accepted[kind]!++;
    d.onRow?.(rows, slot, walSeq);
  }

  /**
   * Order-book rows (model/book-rows.ts) from the book capture: rows from..from+count-1 of `rows`,
   * all of one book table and symbol, ids rising. Rows at or below the last id accepted for that
   * (table, symbol) are duplicates and skipped; the rest go to the WAL as one record and into the
   * ring, all or none (see BookCommit). No gap is ever opened: book ids skip by design.
   * Refused rows (RING_FULL, WAL_REFUSED, SHED) are not stored: the same rows may be offered again
   * (ids make that safe) only before any later row of that (table, symbol) is committed, since a
   * later id turns them into duplicates; otherwise the book must resync and ledger the loss
   * (`book_resync`). Callers pass at most ring capacity / 2 rows per call (a checkpoint in chunks).
   */
  onBookRows(rows: RowColumns, from: number, count: number): BookCommit {
    const d = this.deps;
    if (checkBookRows(rows, from, count) !== null) {
      this.bookRefused++;
      return BookCommit.BAD_ROWS;
    }
    const kind = rows.kind[from]! as TableId;
    const sym = rows.symbol_id[from]!;
    if (d.accepts && !d.accepts(kind)) {
      this.shed += count;
      return BookCommit.SHED;
    }
    // Ids rise within the call, so the duplicates are a prefix.
    const last = d.sequencer.last(kind, sym);
    let first = from;
    while (first < from + count && rows.id[first]! <= last) first++;
    this.duplicates += first - from;
    const n = from + count - first;
    if (n === 0) return BookCommit.DUPLICATE;
    const ring = d.ring;
    if (ring.free() < n) {
      this.overflow += n;
      return BookCommit.RING_FULL;
    }
    let walSeq = 0;
    if (d.wal) {
      const payload = this.#bookRecords.encode(rows, first, n, d.symbols.name(sym));
      walSeq = d.wal.append(payload, rows.recv_time_us[first]!, BOOK_ROWS_TAG);
      if (walSeq < 0) {
        this.walRefused += n;
        return BookCommit.WAL_REFUSED;
      }
    }
    for (let i = first; i < from + count; i++) {
      const slot = ring.claim(); // free() ≥ n was checked: never -1 here (single producer)
      copyRow(rows, i, ring.rows, slot);
      this.walSeqBySlot[slot] = walSeq;
      ring.commit();
      d.sequencer.check(kind, sym, rows.id[i]!);
      d.onRow?.(ring.rows, slot, walSeq);
    }
    this.accepted[kind]! += n;
    return BookCommit.OK;
  }

  onBinary(frame: Uint8Array, recvTimeUs: number, shard: number): void {
    // Binance's JSON streams never send binary frames: keep it for the operator, do not guess.
    this.statusCounts[DecodeStatus.MALFORMED]!++;
    this.deps.deadLetters.push(frame, DecodeStatus.MALFORMED, recvTimeUs, `shard-${shard}:binary`);
  }

  #notARow(status: number, frame: string, recvTimeUs: number, shard: number): void {
    // The row decoders do not know klines: a kline stream is NOT_CONFIGURED (combined) or an
    // UNKNOWN_EVENT (raw) to them. Only then is the frame decoded a second time, as a kline.
    const unknown = status === DecodeStatus.NOT_CONFIGURED || status === DecodeStatus.UNKNOWN_EVENT;
    if (unknown && this.deps.onDepth?.(frame, recvTimeUs)) {
      // The capture counts and dead-letters depth frames itself: ok here, not a refusal.
      this.statusCounts[status]!--;
      this.statusCounts[DecodeStatus.OK]!++;
      this.depthFrames++;
      return;
    }
    const onKline = this.deps.onKline;
    if (
      onKline &&
      (status === DecodeStatus.NOT_CONFIGURED || status === DecodeStatus.UNKNOWN_EVENT) &&
      decodeKlineFrame(frame, this.deps.lookup, this.#kline, 0, true) === DecodeStatus.OK
    ) {
      // Decoded after all: k2_frames_total counts it as ok, not as the row decoders' refusal.
      this.statusCounts[status]!--;
      this.statusCounts[DecodeStatus.OK]!++;
      this.klines++;
      onKline(this.#kline, 0);
      return;
    }
    switch (status) {
      case DecodeStatus.CONTROL:
      case DecodeStatus.NOT_CONFIGURED:
        return;
      case DecodeStatus.SERVER_SHUTDOWN:
        this.deps.onServerShutdown(shard);
        return;
      default:
        this.deps.deadLetters.push(frame, status, recvTimeUs, `shard-${shard}:${statusName(status)}`);
    }
  }

  /** `restart`: between the last id stored by a previous run and this run's first (see seed). */
  #gap(kind: TableId, sym: number, from: number, to: number, cause: "stream" | "restart"): void {
    const d = this.deps;
    const table = TABLE_BY_ID[kind];
    if (table !== "trades" && table !== "agg_trades") return;
    const e = d.ledger.open(table, d.symbols.name(sym), from, to, cause, d.nowUs());
    if (d.ledger.refuseOversized(e, d.gapMaxIds, d.nowUs())) return;
    d.onGap(e);
  }

  /** Close loss runs so they can be repaired (called on a timer and when pressure drops). */
  flushLosses(): void {
    this.#loss.flush();
  }
}

export type { GapCause };
export { BookCommit };
