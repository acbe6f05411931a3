/**
 * The book at any instant from K2's own files (issue 18, `/v1/book?at=`): the newest full-depth
 * checkpoint at or before the instant, then every stored delta after it up to the instant, in id
 * order. A REST snapshot among the deltas (a resync) starts the book again from its levels. Cold
 * path, plain Maps: a minute of 100 ms diffs is ~10⁴ rows.
 *
 * What a level is worth is kept with it: `exact` (from a snapshot or an update since), `beyond`
 * (deeper than the snapshot reached, known from updates only) or `unverified` (a level carried
 * over that no update has confirmed since), and when it was last known.
 */

export type LevelState = "exact" | "beyond" | "unverified";

export interface RebuiltLevel {
  price: bigint;
  quantity: bigint;
  state: LevelState;
  known_time_us: number;
}

interface Level {
  quantity: bigint;
  state: LevelState;
  knownUs: number;
}

/** One stored row as the rebuild needs it (book_checkpoints or book_deltas). */
export interface BookRow {
  ask: boolean;
  price: bigint;
  quantity: bigint;
  updateId: number;
  timeUs: number;
  /** book_deltas: the row comes from a REST snapshot. */
  isSnapshot: boolean;
  /** book_checkpoints: the level's stored state. */
  state?: LevelState;
}

export class BookRebuild {
  readonly bids = new Map<bigint, Level>();
  readonly asks = new Map<bigint, Level>();
  updateId = -1;
  /** Where the book started: a checkpoint or a REST snapshot, and its time. */
  baseKind: "checkpoint" | "snapshot" | "none" = "none";
  baseTimeUs = -1;
  deltasApplied = 0;
  /** The REST snapshot being read (its rows share one update id), -1 when none. */
  #snapshotId = -1;
  /** The base's update id: deltas at or below it are already in the book. */
  #baseId = -1;
  /** Per side, the deepest price a snapshot reached (null: none; a level past it is "beyond"). */
  #coverBid: bigint | null = null;
  #coverAsk: bigint | null = null;

  /** A checkpoint's levels: the book becomes exactly them. */
  checkpoint(rows: readonly BookRow[], timeUs: number, updateId: number): void {
    this.#clear();
    for (const r of rows)
      (r.ask ? this.asks : this.bids).set(r.price, {
        quantity: r.quantity,
        state: r.state ?? "exact",
        knownUs: r.timeUs,
      });
    this.updateId = updateId;
    // A checkpoint keeps each level's state; updates after it make a level exact only within
    // the exact levels' reach (the deepest exact level per side stands in for the cover).
    this.#coverBid = deepest(this.bids, true);
    this.#coverAsk = deepest(this.asks, false);
    this.baseKind = "checkpoint";
    this.baseTimeUs = timeUs;
    this.#baseId = this.updateId;
  }

  /** A delta row (in id order); rows at or below the book's update id are already in it. */
  delta(r: BookRow): void {
    if (r.isSnapshot) {
      if (r.updateId !== this.#snapshotId) {
        this.#clear();
        this.#snapshotId = r.updateId;
        this.baseKind = "snapshot";
        this.baseTimeUs = r.timeUs;
      }
      (r.ask ? this.asks : this.bids).set(r.price, {
        quantity: r.quantity,
        state: "exact",
        knownUs: r.timeUs,
      });
      if (r.ask)
        this.#coverAsk = this.#coverAsk === null || r.price > this.#coverAsk ? r.price : this.#coverAsk;
      else this.#coverBid = this.#coverBid === null || r.price < this.#coverBid ? r.price : this.#coverBid;
      this.updateId = this.#baseId = r.updateId;
      return;
    }
    // Deltas of events the base already holds are skipped (the query may start before it).
    if (this.baseKind === "none" || r.updateId <= this.#baseId) return;
    this.#snapshotId = -1;
    const side = r.ask ? this.asks : this.bids;
    if (r.quantity === 0n) side.delete(r.price);
    else side.set(r.price, { quantity: r.quantity, state: this.#stateOf(r), knownUs: r.timeUs });
    this.updateId = r.updateId;
    this.deltasApplied++;
  }

  /** Best-first levels of one side, at most `n`. */
  top(ask: boolean, n: number): RebuiltLevel[] {
    const m = ask ? this.asks : this.bids;
    const prices = [...m.keys()].sort((a, b) => (ask ? cmp(a, b) : cmp(b, a)));
    return prices.slice(0, n).map((p) => {
      const l = m.get(p)!;
      return { price: p, quantity: l.quantity, state: l.state, known_time_us: l.knownUs };
    });
  }

  #stateOf(r: BookRow): LevelState {
    const cover = r.ask ? this.#coverAsk : this.#coverBid;
    if (cover === null) return "beyond";
    return (r.ask ? r.price <= cover : r.price >= cover) ? "exact" : "beyond";
  }

  #clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.#coverBid = this.#coverAsk = null;
    this.#snapshotId = -1;
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The deepest exact price of a side (bids: lowest; asks: highest), or null. */
function deepest(m: Map<bigint, Level>, bid: boolean): bigint | null {
  let d: bigint | null = null;
  for (const [p, l] of m) {
    if (l.state !== "exact") continue;
    if (d === null || (bid ? p < d : p > d)) d = p;
  }
  return d;
}
