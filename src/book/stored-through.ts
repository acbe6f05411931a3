/**
 * How far a symbol's book can be rebuilt from files (`/v1/book?at=`, `/v1/book/snapshots`): book
 * rows have no hot window, so until a flush makes them visible an instant after the last visible
 * delta would be rebuilt without the deltas still on their way — a stale book labelled synced.
 * Instants past the horizon are answered `not_stored_yet` instead (src/book/at.ts).
 *
 * A symbol's book_deltas rows become visible in id order (one batcher per table and symbol, as
 * the hot windows assume), so when the newest visible id is below the last id handed to storage,
 * every delta up to the newest visible event is in files and the next ones are not: the horizon is
 * just before that event's time (its rows may be split across two files). With nothing pending,
 * the book is stored up to now.
 */
export interface VisibleDeltas {
  /** Highest book_deltas id in a visible file, and the newest event time there. */
  maxId(symbol: string): number | undefined;
  lastEventUs(symbol: string): number | undefined;
}

export class StoredThrough {
  /** Per symbol, the id of the last book_deltas row handed to storage by this process. */
  readonly #put = new Map<string, number>();

  constructor(
    private readonly visible: VisibleDeltas,
    private readonly nowUs: () => number,
  ) {}

  /** Storage accepted book_deltas rows of `symbol` up to `lastId`. */
  put(symbol: string, lastId: number): void {
    this.#put.set(symbol, lastId);
  }

  /** The latest instant (µs) whose book every stored delta is visible for. */
  horizonUs(symbol: string): number {
    const put = this.#put.get(symbol);
    const max = this.visible.maxId(symbol) ?? -1;
    if (put === undefined || max >= put) return this.nowUs();
    const last = this.visible.lastEventUs(symbol);
    return last === undefined ? -1 : last - 1;
  }
}
