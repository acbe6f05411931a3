/**
 * Where a stored book was not continuous, found from the stored rows themselves: what a query
 * node has in place of the recorder's gap ledger (which stays in the recorder's folder).
 *
 * Binance's diff events chain: each applied event's first update id `U` is at most the previous
 * event's `u` + 1 (docs/books.md). Read in id order (delta_id = u × 2^14 + position), a diff event
 * whose `U` lies beyond the chain's `u` + 1 means updates were never stored: from just after the
 * chain's last event, the stored book is not the exchange's. It is again from a REST snapshot that
 * re-bases the chain: a snapshot row of lastUpdateId L followed by a diff event with U ≤ L + 1;
 * the snapshot's stored time is when the stream had reached it (src/book/capture.ts), which ends
 * the window. This is the window a single process ledgers as `book_resync` (from the last event
 * held + 1 µs to the snapshot's time).
 *
 * With two recorders the rows of both are in one chain (the writer kept each event once), so a
 * window is found only where neither recorder stored the updates; a snapshot one recorder took
 * while the other's events continued breaks nothing.
 */

export interface ChainWindow {
  /** First instant not continuous (µs), and the first instant continuous again (exclusive). */
  readonly fromUs: number;
  readonly toUs: number;
  /** The update ids whose effect is not stored (to: the snapshot's lastUpdateId, or -1 if open). */
  readonly fromId: number;
  readonly toId: number;
}

export class BookChain {
  /** `u` and event time of the last diff event (or of the base) in the chain; -1: none yet. */
  #u = -1;
  #uUs = 0;
  /** The newest snapshot row since the last diff event; -1: none. */
  #snapL = -1;
  #snapUs = 0;
  #openFromUs = -1;
  #openFromId = -1;
  readonly windows: ChainWindow[] = [];
  /** Diff events read after the chain's base. */
  events = 0;

  /** The book a checkpoint holds: the chain starts at its update id. */
  base(updateId: number, timeUs: number): void {
    if (this.#u >= 0) return;
    this.#u = updateId;
    this.#uUs = timeUs;
  }

  /** The last update id in the chain (-1: none), i.e. the book's update id after the rows read. */
  get updateId(): number {
    return this.#u;
  }

  /** Event time (µs) of the chain's last diff event, or of its base: how far the rows read reach. */
  get lastEventUs(): number {
    return this.#uUs;
  }

  /** One book_deltas row, in id order (every row of an event carries its U and u). */
  row(first: number, last: number, timeUs: number, isSnapshot: boolean): void {
    if (isSnapshot) {
      this.#snapL = last;
      this.#snapUs = timeUs;
      return;
    }
    if (last <= this.#u) return; // the event's other rows, or an event the base already holds
    this.events++;
    if (this.#u >= 0 && first > this.#u + 1 && this.#openFromUs < 0) {
      this.#openFromUs = this.#uUs + 1;
      this.#openFromId = this.#u + 1;
    }
    if (this.#openFromUs >= 0 && this.#snapL >= 0 && first <= this.#snapL + 1) {
      this.windows.push({
        fromUs: this.#openFromUs,
        toUs: Math.max(this.#snapUs, this.#openFromUs),
        fromId: this.#openFromId,
        toId: this.#snapL,
      });
      this.#openFromUs = -1;
    }
    // A chain without a base starts at its first snapshot or event.
    this.#u = last;
    this.#uUs = timeUs;
    this.#snapL = -1;
  }

  /** The window holding `atUs`, the one still open (not re-based by the rows read) included. */
  windowAt(atUs: number): ChainWindow | undefined {
    const closed = this.windows.find((w) => w.fromUs <= atUs && atUs < w.toUs);
    if (closed) return closed;
    if (this.#openFromUs >= 0 && this.#openFromUs <= atUs)
      return { fromUs: this.#openFromUs, toUs: Number.POSITIVE_INFINITY, fromId: this.#openFromId, toId: -1 };
    return undefined;
  }
}
