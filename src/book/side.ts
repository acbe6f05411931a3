/**
 * One side of a per-symbol order book in typed arrays (no object per level): levels sorted from
 * the worst price to the best, so the best level is the last one and the changes of a 100 ms diff,
 * which cluster near the top, shift only the few levels above them (native-bench/book.bench.ts
 * "book apply"). A binary search finds a price.
 *
 * Prices are DECIMAL(18,8) scaled integers as two uint32 words (model/decimal.ts owns the scale;
 * the depth decoder writes them). Both sides are kept ascending in one "rank key": the price's
 * words for bids (higher is better) and their bitwise complement for asks (lower is better), so
 * one comparison serves both.
 *
 * What is known about each level (see LEVEL_* below): a snapshot covers every level from the best
 * down to its deepest price (`coverage`); every diff since keeps that range exact. Outside it a
 * level set by a diff is exact but may have unknown neighbours, and a level kept from before the
 * last snapshot that nothing has touched since is unverified: it may be a ghost.
 */

/** Inside the last snapshot's price range (complete there: snapshot + every diff since). */
export const LEVEL_EXACT = 0;
/** Deeper than the last snapshot reached, set by a diff since it: exact, but levels between it and the range may be missing. */
export const LEVEL_BEYOND = 1;
/** Deeper than the last snapshot reached, kept from before it, untouched since: possibly a ghost. */
export const LEVEL_UNVERIFIED = 2;

/** Levels per side a book holds before it drops its worst level (bounded memory per symbol). */
export const BOOK_MAX_LEVELS_PER_SIDE = 20_000;
const INITIAL_LEVELS = 256;

/** Internal per-level mark: set since the last snapshot, or carried over from before it. */
const CURRENT = 0;
const CARRIED = 1;

/** Caller-owned best-first level list (top N, or the whole side for a checkpoint). */
export class BookLevels {
  n = 0;
  /** Price words (low at 2·i, high at 2·i+1), as DepthSide. */
  pxw = new Uint32Array(0);
  qtyw = new Uint32Array(0);
  /** LEVEL_EXACT, LEVEL_BEYOND or LEVEL_UNVERIFIED. */
  state = new Uint8Array(0);
  /** When the level's quantity was last known (the snapshot's or the diff's time, µs). */
  knownUs = new Float64Array(0);

  /** Room for `n` levels; allocates only when growing. */
  ensure(n: number): void {
    if (n <= this.state.length) return;
    const cap = Math.max(n, 2 * this.state.length, 16);
    const px = new Uint32Array(2 * cap);
    const qty = new Uint32Array(2 * cap);
    const st = new Uint8Array(cap);
    const t = new Float64Array(cap);
    px.set(this.pxw);
    qty.set(this.qtyw);
    st.set(this.state);
    t.set(this.knownUs);
    this.pxw = px;
    this.qtyw = qty;
    this.state = st;
    this.knownUs = t;
  }

  price(i: number): bigint {
    return (BigInt(this.pxw[2 * i + 1]!) << 32n) | BigInt(this.pxw[2 * i]!);
  }

  quantity(i: number): bigint {
    return (BigInt(this.qtyw[2 * i + 1]!) << 32n) | BigInt(this.qtyw[2 * i]!);
  }
}

export class BookSide {
  readonly isBid: boolean;
  /** XOR applied to price words to make the rank key (0 for bids, all ones for asks). */
  readonly #flip: number;
  readonly maxLevels: number;
  n = 0;
  /** Stride 4: rank key high, rank key low, quantity low, quantity high. */
  #w = new Uint32Array(4 * INITIAL_LEVELS);
  #knownUs = new Float64Array(INITIAL_LEVELS);
  #mark = new Uint8Array(INITIAL_LEVELS);
  /** Rank key of the last snapshot's deepest level; levels ranking at or above it are covered. */
  #coverHi = 0xffffffff;
  #coverLo = 0xffffffff;
  /** No snapshot yet: nothing is covered. */
  #covered = false;
  /** Levels dropped (worst first) because the side was full. */
  evicted = 0;

  constructor(isBid: boolean, maxLevels = BOOK_MAX_LEVELS_PER_SIDE) {
    this.isBid = isBid;
    this.#flip = isBid ? 0 : 0xffffffff;
    this.maxLevels = maxLevels;
  }

  /** Index of the first level ranking ≥ (kh, kl): where that key is or would be inserted. */
  #lowerBound(kh: number, kl: number): number {
    const w = this.#w;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const h = w[4 * mid]!;
      if (h < kh || (h === kh && w[4 * mid + 1]! < kl)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Set the level at price words (pLo, pHi) to quantity words (qLo, qHi); quantity 0 removes it
   * (Binance: "0" removes the price level; removing an absent level is not an error).
   */
  set(pLo: number, pHi: number, qLo: number, qHi: number, timeUs: number): void {
    const kh = (pHi ^ this.#flip) >>> 0;
    const kl = (pLo ^ this.#flip) >>> 0;
    let i = this.#lowerBound(kh, kl);
    const w = this.#w;
    const n = this.n;
    const found = i < n && w[4 * i] === kh && w[4 * i + 1] === kl;
    if (qLo === 0 && qHi === 0) {
      if (found) {
        w.copyWithin(4 * i, 4 * (i + 1), 4 * n);
        this.#knownUs.copyWithin(i, i + 1, n);
        this.#mark.copyWithin(i, i + 1, n);
        this.n = n - 1;
      }
      return;
    }
    if (!found) {
      if (n === this.maxLevels) {
        if (i === 0) {
          // Worse than every level of a full side: not kept, so a range that reached it now ends above it.
          this.evicted++;
          const inRange = kh > this.#coverHi || (kh === this.#coverHi && kl >= this.#coverLo);
          if (this.#covered && inRange) {
            this.#coverHi = w[0]!;
            this.#coverLo = w[1]!;
          }
          return;
        }
        this.#dropWorst();
        i--;
      } else if (n === this.#mark.length) this.#grow();
      const w2 = this.#w;
      const m = this.n;
      if (i < m) {
        w2.copyWithin(4 * (i + 1), 4 * i, 4 * m);
        this.#knownUs.copyWithin(i + 1, i, m);
        this.#mark.copyWithin(i + 1, i, m);
      }
      w2[4 * i] = kh;
      w2[4 * i + 1] = kl;
      this.n = m + 1;
    }
    const w3 = this.#w;
    w3[4 * i + 2] = qLo;
    w3[4 * i + 3] = qHi;
    this.#knownUs[i] = timeUs;
    this.#mark[i] = CURRENT;
  }

  #dropWorst(): void {
    // A dropped level inside the snapshot's range moves the range's end up to the new worst level.
    const wasCovered = !this.#ranksBelowCover(0);
    const n = this.n;
    this.#w.copyWithin(0, 4, 4 * n);
    this.#knownUs.copyWithin(0, 1, n);
    this.#mark.copyWithin(0, 1, n);
    this.n = n - 1;
    this.evicted++;
    if (wasCovered && this.n > 0) {
      this.#coverHi = this.#w[0]!;
      this.#coverLo = this.#w[1]!;
    }
  }

  #grow(): void {
    const cap = Math.min(this.maxLevels, 2 * this.#mark.length);
    const w = new Uint32Array(4 * cap);
    const t = new Float64Array(cap);
    const m = new Uint8Array(cap);
    w.set(this.#w);
    t.set(this.#knownUs);
    m.set(this.#mark);
    this.#w = w;
    this.#knownUs = t;
    this.#mark = m;
  }

  #ranksBelowCover(i: number): boolean {
    if (!this.#covered) return true;
    const h = this.#w[4 * i]!;
    return h < this.#coverHi || (h === this.#coverHi && this.#w[4 * i + 1]! < this.#coverLo);
  }

  /**
   * Whether snapshot levels (best first, as Binance sends them; words as DepthSide) can be
   * trusted: strictly ordered best to worst, no zero quantity, within the side's bound.
   */
  snapshotValid(pxw: Uint32Array, qtyw: Uint32Array, n: number): boolean {
    if (n > this.maxLevels) return false;
    const f = this.#flip;
    for (let j = 1; j < n; j++) {
      const ah = (pxw[2 * j - 1]! ^ f) >>> 0;
      const al = (pxw[2 * j - 2]! ^ f) >>> 0;
      const bh = (pxw[2 * j + 1]! ^ f) >>> 0;
      const bl = (pxw[2 * j]! ^ f) >>> 0;
      if (!(bh < ah || (bh === ah && bl < al))) return false; // each level must rank below the previous
    }
    for (let j = 0; j < n; j++) if (qtyw[2 * j] === 0 && qtyw[2 * j + 1] === 0) return false;
    return true;
  }

  /**
   * Replace the side with a snapshot's levels (checked by snapshotValid first). `complete`: the
   * snapshot returned fewer levels than asked, so the side has nothing deeper. Levels deeper
   * than the snapshot reached are kept, marked unverified, unless `complete`.
   */
  applySnapshot(pxw: Uint32Array, qtyw: Uint32Array, n: number, complete: boolean, timeUs: number): void {
    const f = this.#flip;
    // Keep the old levels ranking below the snapshot's deepest one (none if complete or empty).
    let keep = 0;
    if (!complete && n > 0) keep = this.#lowerBound((pxw[2 * n - 1]! ^ f) >>> 0, (pxw[2 * n - 2]! ^ f) >>> 0);
    if (keep + n > this.maxLevels) {
      const drop = keep + n - this.maxLevels;
      this.#w.copyWithin(0, 4 * drop, 4 * keep);
      this.#knownUs.copyWithin(0, drop, keep);
      this.#mark.copyWithin(0, drop, keep);
      keep -= drop;
      this.evicted += drop;
    }
    while (this.#mark.length < keep + n) this.#grow();
    for (let i = 0; i < keep; i++) this.#mark[i] = CARRIED;
    const w = this.#w;
    for (let j = 0; j < n; j++) {
      const i = keep + n - 1 - j; // best first in, worst first stored
      w[4 * i] = (pxw[2 * j + 1]! ^ f) >>> 0;
      w[4 * i + 1] = (pxw[2 * j]! ^ f) >>> 0;
      w[4 * i + 2] = qtyw[2 * j]!;
      w[4 * i + 3] = qtyw[2 * j + 1]!;
      this.#knownUs[i] = timeUs;
      this.#mark[i] = CURRENT;
    }
    this.n = keep + n;
    this.#covered = true;
    if (complete || n === 0) {
      this.#coverHi = 0;
      this.#coverLo = 0;
    } else {
      this.#coverHi = w[4 * keep]!;
      this.#coverLo = w[4 * keep + 1]!;
    }
  }

  /** Forget every level (a book that can no longer be trusted at all). */
  clear(): void {
    this.n = 0;
    this.#covered = false;
    this.#coverHi = 0xffffffff;
    this.#coverLo = 0xffffffff;
  }

  /** LEVEL_* of the level `k` places from the best (k < n). */
  stateAt(k: number): number {
    const i = this.n - 1 - k;
    if (!this.#ranksBelowCover(i)) return LEVEL_EXACT;
    return this.#mark[i] === CARRIED ? LEVEL_UNVERIFIED : LEVEL_BEYOND;
  }

  /** Price words of the level `k` places from the best into `dst` at 2·slot. */
  priceAt(k: number, dst: Uint32Array, slot: number): void {
    const i = this.n - 1 - k;
    dst[2 * slot] = (this.#w[4 * i + 1]! ^ this.#flip) >>> 0;
    dst[2 * slot + 1] = (this.#w[4 * i]! ^ this.#flip) >>> 0;
  }

  /** Quantity words of the level `k` places from the best into `dst` at 2·slot. */
  quantityAt(k: number, dst: Uint32Array, slot: number): void {
    const i = this.n - 1 - k;
    dst[2 * slot] = this.#w[4 * i + 2]!;
    dst[2 * slot + 1] = this.#w[4 * i + 3]!;
  }

  /** The best `levels` (all when larger than n) into `out`, best first. */
  copyTop(levels: number, out: BookLevels): void {
    const n = Math.min(levels, this.n);
    out.ensure(n);
    const w = this.#w;
    for (let k = 0; k < n; k++) {
      const i = this.n - 1 - k;
      out.pxw[2 * k] = (w[4 * i + 1]! ^ this.#flip) >>> 0;
      out.pxw[2 * k + 1] = (w[4 * i]! ^ this.#flip) >>> 0;
      out.qtyw[2 * k] = w[4 * i + 2]!;
      out.qtyw[2 * k + 1] = w[4 * i + 3]!;
      out.knownUs[k] = this.#knownUs[i]!;
      out.state[k] = this.stateAt(k);
    }
    out.n = n;
  }
}
