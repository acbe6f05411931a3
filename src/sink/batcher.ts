/**
 * The ring's consumer: fills one columnar batch per (table, UTC date, symbol) and cuts a file when
 * a batch reaches `maxRows` or its oldest row is `flushIntervalMs` old (so data is queryable
 * quickly). Batches are RowColumns buffers with room for their table's slots only (allocTableRows)
 * from a bounded pool: no per-row allocation. A buffer starts at INITIAL_ROWS and doubles (up to
 * maxRows) only when a burst fills it. After its write a buffer, grown or not, goes back to the
 * pool while the free buffers stay within `poolBytes`, and to the allocator beyond that. At a steady high rate every batch grows to about a flush
 * interval's rows; dropping each grown buffer after its write made the consumer allocate (and
 * zero, and fault in) megabytes per file, 5–10 ms per growth on the event loop
 * (native-bench/README.md "Event-loop lag"). An unbounded pool of grown buffers was the opposite
 * mistake: every burst (a gap repair, a WAL replay) left its pages resident for good, and RSS
 * crept up by the burst size per pooled buffer over a soak.
 * A batch whose write fails is kept and retried (with backoff, through the breaker); while the
 * pool is exhausted the batcher stops draining the ring, so pressure shows up as ring fill —
 * which the source turns into backpressure and the degradation manager into a level.
 */
import {
  allocTableRows,
  copyTableRow,
  growRows,
  type RowColumns,
  rowColumnsBytes,
  rowsBytes,
} from "../model/row.ts";
import { MAX_SYMBOLS } from "../model/symbols.ts";
import { TABLE_BY_ID, TABLE_ID_MAX, type TableId } from "../model/tables.ts";
import type { Ring } from "../ring/ring.ts";

export const US_PER_DAY = 86_400_000_000;

export interface Batch {
  readonly key: number;
  readonly kind: TableId;
  readonly symbolId: number;
  /** Days since 1970-01-01 (UTC) of the rows' event time. */
  readonly day: number;
  /**
   * Only `kind`'s slots have room (model/row.ts allocTableRows). Replaced by a bigger buffer when
   * a burst fills it (see growRows).
   */
  rows: RowColumns;
  count: number;
  /** Lowest WAL sequence among the rows (rows arrive in WAL order, so: the first row's). */
  minWalSeq: number;
  openedAtMs: number;
  /** Write attempts that failed so far. */
  failures: number;
}

export interface BatchWriter {
  /** Make the batch's rows a visible file. Rejects on failure; the batch is retried later. */
  write(batch: Batch): Promise<void>;
}

export interface BatcherOptions {
  readonly maxRows: number;
  readonly flushIntervalMs: number;
  /** Batches that may exist at once (open + being written + waiting for retry). */
  readonly maxBatches: number;
  /** First size of each batch buffer (default INITIAL_ROWS); smaller when there are many keys. */
  readonly initialRows?: number;
  /**
   * Most bytes the free buffers may hold together (default: maxBatches buffers of initialRows,
   * the pool's size before any grows); a written buffer beyond it goes back to the allocator.
   */
  readonly poolBytes?: number;
  /**
   * Batch buffers in SharedArrayBuffers (allocTableRows), for a writer that hands them to a
   * Worker in place (the Parquet sink: parquet/batch.ts batchOver). Default false.
   */
  readonly sharedRows?: boolean;
  /** Writes in flight at once (the writer pool refuses beyond its own bound). */
  readonly maxInFlight?: number;
  readonly retryDelayMs?: (failures: number) => number;
  readonly nowMs?: () => number;
  readonly onWriteError?: (e: unknown, batch: Batch) => void;
}

/** Batch writes in flight at once, by default (BatcherOptions.maxInFlight). */
export const MAX_WRITES_IN_FLIGHT = 8;

/** First size of a batch buffer: a second of one symbol's trades fits many times over. */
export const INITIAL_ROWS = 4096;

export function dayOf(eventTimeUs: number): number {
  return Math.floor(eventTimeUs / US_PER_DAY);
}

export function isoDate(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

export class Batcher {
  readonly #open = new Map<number, Batch>();
  readonly #writing = new Set<Batch>();
  /** Free buffers by table id: a buffer has room for one table's slots only. */
  readonly #free: RowColumns[][] = Array.from({ length: TABLE_ID_MAX + 1 }, () => []);
  #freeBytes = 0;
  readonly #poolBytes: number;
  #allocated = 0;
  rowsWritten = 0;
  filesWritten = 0;
  writeFailures = 0;
  readonly #now: () => number;
  readonly #initialRows: number;

  constructor(
    readonly ring: Ring,
    readonly walSeqBySlot: Float64Array,
    readonly writer: BatchWriter,
    readonly opts: BatcherOptions,
  ) {
    this.#now = opts.nowMs ?? (() => performance.now());
    this.#initialRows = opts.initialRows ?? INITIAL_ROWS;
    this.#poolBytes =
      opts.poolBytes ?? opts.maxBatches * rowColumnsBytes(Math.min(this.#initialRows, opts.maxRows));
  }

  /** Bytes the free buffers hold (at most `poolBytes`). */
  get pooledBytes(): number {
    return this.#freeBytes;
  }

  /** Move readable ring rows into batches; returns rows moved. Stops when no batch is free. */
  drain(): number {
    const ring = this.ring;
    const rows = ring.rows;
    let moved = 0;
    for (;;) {
      const slot = ring.readIndex(0);
      if (slot < 0) break;
      const kind = rows.kind[slot]! as TableId;
      const sym = rows.symbol_id[slot]!;
      const day = dayOf(rows.event_time_us[slot]!);
      const key = (day * (TABLE_ID_MAX + 1) + kind) * MAX_SYMBOLS + sym;
      let b = this.#open.get(key);
      if (!b) {
        const buf = this.#take(kind);
        if (!buf) break; // every batch is busy: leave the rows in the ring (backpressure)
        b = {
          key,
          kind,
          symbolId: sym,
          day,
          rows: buf,
          count: 0,
          minWalSeq: this.walSeqBySlot[slot]!,
          openedAtMs: this.#now(),
          failures: 0,
        };
        this.#open.set(key, b);
      }
      if (b.count >= this.opts.maxRows) {
        if (!this.#canWrite()) break; // full batch, writer busy: leave the row in the ring
        this.#cut(b);
        continue;
      }
      if (b.count >= b.rows.capacity)
        b.rows = growRows(b.rows, b.count, Math.min(this.opts.maxRows, 2 * b.count));
      copyTableRow(kind, rows, slot, b.rows, b.count++);
      ring.release(1);
      moved++;
      if (b.count >= this.opts.maxRows && this.#canWrite()) this.#cut(b);
    }
    return moved;
  }

  /** Cut every batch whose oldest row is older than the flush interval (or all, if `all`). */
  flushDue(all = false): void {
    const now = this.#now();
    for (const b of [...this.#open.values()]) {
      if (!this.#canWrite()) return;
      if (all || now - b.openedAtMs >= this.opts.flushIntervalMs) this.#cut(b);
    }
  }

  /** Rows accepted but not yet in a visible file (open + writing). */
  pendingRows(): number {
    let n = this.ring.available();
    for (const b of this.#open.values()) n += b.count;
    for (const b of this.#writing) n += b.count;
    return n;
  }

  /** Highest WAL seq such that every row at or below it is in a visible file (or -1). */
  durableWatermark(lastAppendedSeq: number): number {
    let min = lastAppendedSeq + 1;
    const oldest = this.ring.readIndex(0);
    if (oldest >= 0) min = Math.min(min, this.walSeqBySlot[oldest]!);
    for (const b of this.#open.values()) min = Math.min(min, b.minWalSeq);
    for (const b of this.#writing) min = Math.min(min, b.minWalSeq);
    return min - 1;
  }

  /** Age (ms) of the oldest row not yet written; 0 when none. The degradation "write lag". */
  writeLagMs(): number {
    const now = this.#now();
    let oldest = now;
    for (const b of this.#open.values()) oldest = Math.min(oldest, b.openedAtMs);
    for (const b of this.#writing) oldest = Math.min(oldest, b.openedAtMs);
    return now - oldest;
  }

  get busy(): number {
    return this.#writing.size;
  }

  /**
   * Wait until every accepted row is written: none left in the ring, none in a batch. Rows still
   * in the ring count too: a stop right after a burst, before the consumer's next tick, found no
   * batch open and returned at once, leaving those rows to the WAL (seen with order-book rows
   * committed just before stopIngest, test/sink/book-storage.test.ts).
   */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = this.#now() + timeoutMs;
    const busy = () => this.#writing.size > 0 || this.#open.size > 0 || this.ring.available() > 0;
    while (busy() && this.#now() < deadline) {
      this.drain();
      this.flushDue(true);
      await Bun.sleep(5);
    }
    return !busy();
  }

  #canWrite(): boolean {
    return this.#writing.size < (this.opts.maxInFlight ?? MAX_WRITES_IN_FLIGHT);
  }

  #take(kind: TableId): RowColumns | undefined {
    const b = this.#free[kind]!.pop();
    if (b) {
      this.#freeBytes -= rowsBytes(b);
      return b;
    }
    if (this.#allocated >= this.opts.maxBatches && !this.#dropFree()) return undefined;
    this.#allocated++;
    const rows = Math.min(this.#initialRows, this.opts.maxRows);
    return allocTableRows(TABLE_BY_ID[kind], rows, this.opts.sharedRows ?? false);
  }

  /**
   * Let one free buffer of another table go, so the count bound (on every buffer) leaves room for
   * this one: without it, buffers kept for one table could stall another's rows in the ring for good.
   */
  #dropFree(): boolean {
    for (const list of this.#free) {
      const b = list.pop();
      if (!b) continue;
      this.#freeBytes -= rowsBytes(b);
      this.#allocated--;
      return true;
    }
    return false;
  }

  #cut(b: Batch): void {
    if (this.#open.get(b.key) === b) this.#open.delete(b.key);
    this.#writing.add(b);
    this.#write(b);
  }

  #write(b: Batch): void {
    this.writer.write(b).then(
      () => {
        this.#writing.delete(b);
        this.rowsWritten += b.count;
        this.filesWritten++;
        // Kept for the next batch while the pool has room (no allocation at a steady rate);
        // beyond it, back to the allocator with its pages.
        const bytes = rowsBytes(b.rows);
        if (this.#freeBytes + bytes <= this.#poolBytes) {
          this.#free[b.kind]!.push(b.rows);
          this.#freeBytes += bytes;
        } else this.#allocated--;
      },
      (e: unknown) => {
        // Keep the batch (its rows are accepted) and try again later; new rows of the same key
        // go to a new batch meanwhile — several files per key are fine, compaction merges them.
        b.failures++;
        this.writeFailures++;
        this.opts.onWriteError?.(e, b);
        const delay =
          this.opts.retryDelayMs?.(b.failures) ?? Math.min(30_000, 100 * 2 ** Math.min(b.failures, 9));
        setTimeout(() => this.#write(b), delay);
      },
    );
  }
}
