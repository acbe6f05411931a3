/**
 * The ring between decode and sink: single producer (the decoder, in WebSocket message handlers),
 * single consumer (the sink batcher), fixed power-of-two capacity, rows in one preallocated
 * struct-of-arrays `RowColumns`. It never overwrites: a full ring refuses (claim → -1) and counts
 * the refusal; the overflow contract the producer must follow is in README.md.
 *
 * Positions are int32 counters that wrap at 2^32 (`| 0`), so JSC keeps them as int32 (no double
 * boxing) and `pos & mask` is the slot. `size = (head - tail) | 0` stays exact across the wrap
 * while capacity ≤ 2^30. The same layout moves to a SharedArrayBuffer unchanged (README.md).
 *
 * Ownership (the SPSC discipline): the producer writes only #head, #claimed, #committed, #refused
 * and #highWater; the consumer writes only #tail and #released. Each side reads the other's
 * position once per call. No method allocates except `stats()`.
 */
import { allocRowColumns, type RowColumns } from "../model/index.ts";

/** Largest capacity: `(head - tail) | 0` must stay a non-negative int32 across the wrap. */
export const RING_MAX_CAPACITY = 2 ** 30;

/** Snapshot for metrics and the management log line (allocates; cold path only). */
export interface RingStats {
  readonly capacity: number;
  readonly size: number;
  readonly fill_ratio: number;
  readonly high_water: number;
  readonly committed_total: number;
  readonly released_total: number;
  readonly refused_total: number;
}

/** Throws RangeError unless `capacity` is a power of two in [1, RING_MAX_CAPACITY]. */
export function validateRingCapacity(capacity: number): void {
  if (
    !Number.isInteger(capacity) ||
    capacity < 1 ||
    capacity > RING_MAX_CAPACITY ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new RangeError(
      `ring capacity must be a power of two between 1 and ${RING_MAX_CAPACITY}, got ${capacity}`,
    );
  }
}

export class Ring {
  readonly capacity: number;
  /** The row storage; slot indices from claim()/readIndex() address every column. */
  readonly rows: RowColumns;
  readonly #mask: number;
  // Producer-owned.
  #head = 0;
  #claimed = false;
  #committed = 0;
  #refused = 0;
  #highWater = 0;
  // Consumer-owned.
  #tail = 0;
  #released = 0;

  /**
   * `startPosition` (an int32) only matters to tests: starting just below 2^31 proves the
   * position arithmetic across the int32 wrap without 4 billion operations.
   */
  constructor(capacity: number, startPosition = 0) {
    validateRingCapacity(capacity);
    if ((startPosition | 0) !== startPosition) {
      throw new RangeError(`ring startPosition must be an int32, got ${startPosition}`);
    }
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.rows = allocRowColumns(capacity);
    this.#head = startPosition;
    this.#tail = startPosition;
  }

  // ---- producer ----

  /**
   * The slot to write the next row into, or -1 when the ring is full. A -1 counts one refused
   * row; call claim once per row, never in a retry loop (README.md, "Overflow"). Calling claim
   * again without commit returns the same slot: that is how a failed decode abandons its claim.
   */
  claim(): number {
    const head = this.#head;
    if (((head - this.#tail) | 0) === this.capacity) {
      this.#refused++;
      this.#claimed = false;
      return -1;
    }
    this.#claimed = true;
    return head & this.#mask;
  }

  /** Publish the claimed slot to the consumer. Throws if nothing is claimed (a producer bug). */
  commit(): void {
    if (!this.#claimed) throw new Error("ring commit() without a successful claim()");
    this.#claimed = false;
    const head = (this.#head + 1) | 0;
    this.#head = head;
    this.#committed++;
    const size = (head - this.#tail) | 0;
    if (size > this.#highWater) this.#highWater = size;
  }

  /** Free slots as the producer sees them (the consumer may free more meanwhile). */
  free(): number {
    return this.capacity - ((this.#head - this.#tail) | 0);
  }

  // ---- consumer ----

  /** Committed rows not yet released. */
  available(): number {
    return (this.#head - this.#tail) | 0;
  }

  /** Slot of the k-th readable row (0 = oldest), or -1 if k ≥ available(). */
  readIndex(k: number): number {
    const tail = this.#tail;
    if (k >= ((this.#head - tail) | 0) || k < 0) return -1;
    return (tail + k) & this.#mask;
  }

  /**
   * Readable rows from readIndex(0) up to the physical end of the columns, so a batcher can copy
   * whole spans with `subarray`/`set` (at most two spans per drain).
   */
  readableRun(): number {
    const tail = this.#tail;
    const avail = (this.#head - tail) | 0;
    const toEnd = this.capacity - (tail & this.#mask);
    return Math.min(avail, toEnd);
  }

  /** Hand `n` processed rows back to the producer. Throws RangeError if n > available(). */
  release(n: number): void {
    const tail = this.#tail;
    if (!(n >= 0 && n <= ((this.#head - tail) | 0)) || (n | 0) !== n) {
      throw new RangeError(`ring release(${n}): only ${(this.#head - tail) | 0} rows are readable`);
    }
    this.#tail = (tail + n) | 0;
    this.#released += n;
  }

  /**
   * Call `fn(rows, slot)` for up to `max` oldest rows, then release them; returns how many.
   * If `fn` throws, the rows it finished are released and the failing row stays readable.
   */
  drain(max: number, fn: (rows: RowColumns, slot: number) => void): number {
    const tail = this.#tail;
    const avail = (this.#head - tail) | 0;
    const n = Math.min(max, avail);
    const rows = this.rows;
    const mask = this.#mask;
    let done = 0;
    try {
      for (; done < n; done++) fn(rows, (tail + done) & mask);
    } finally {
      this.#tail = (tail + done) | 0;
      this.#released += done;
    }
    return done;
  }

  // ---- stats (read by metrics, the health tick and the degradation manager) ----

  /** Rows committed and not released. */
  size(): number {
    return (this.#head - this.#tail) | 0;
  }

  /** size / capacity in [0, 1]. Poll this (no callbacks on the hot path). */
  fillRatio(): number {
    return ((this.#head - this.#tail) | 0) / this.capacity;
  }

  /** Largest size seen at a commit since construction or the last resetHighWater(). */
  get highWater(): number {
    return this.#highWater;
  }

  /**
   * Returns the high-water mark and restarts it from the current size. A poller that resets on
   * every tick sees each interval's peak, which a sampled fillRatio() would miss between ticks.
   */
  resetHighWater(): number {
    const hw = this.#highWater;
    this.#highWater = (this.#head - this.#tail) | 0;
    return hw;
  }

  get totalCommitted(): number {
    return this.#committed;
  }

  get totalReleased(): number {
    return this.#released;
  }

  /** Rows refused because the ring was full (claim → -1). */
  get totalRefused(): number {
    return this.#refused;
  }

  stats(): RingStats {
    const size = this.size();
    return {
      capacity: this.capacity,
      size,
      fill_ratio: size / this.capacity,
      high_water: this.#highWater,
      committed_total: this.#committed,
      released_total: this.#released,
      refused_total: this.#refused,
    };
  }
}
