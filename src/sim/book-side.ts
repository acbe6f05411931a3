/**
 * One side of the simulator's order book: price levels as two typed arrays (no object per level),
 * prices and quantities scaled by 1e8 like the rest of src/sim. Levels are sorted worst → best, so
 * the busy end (the top of the book, where most orders arrive, fill and cancel) is the arrays'
 * tail and an insert or removal there moves few elements.
 */

/** Levels a side starts with room for; grows by doubling up to the side's cap. */
const INITIAL_ROOM = 256;

export class BookSide {
  private prices: Float64Array;
  private qtys: Float64Array;
  /** Levels held. */
  count = 0;

  constructor(
    readonly isBid: boolean,
    /** Cap on levels; the caller evicts the worst level before inserting past it. */
    readonly maxLevels: number,
  ) {
    const room = Math.min(INITIAL_ROOM, maxLevels);
    this.prices = new Float64Array(room);
    this.qtys = new Float64Array(room);
  }

  /** Sort key increasing towards the best price: bids by price, asks by negated price. */
  private key(price: number): number {
    return this.isBid ? price : -price;
  }

  /** Index of `price`, or -(insertion point) - 1 when the side has no such level. */
  find(price: number): number {
    const k = this.key(price);
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.key(this.prices[mid]!);
      if (m < k) lo = mid + 1;
      else if (m > k) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  qtyAt(price: number): number {
    const i = this.find(price);
    return i >= 0 ? this.qtys[i]! : 0;
  }

  /** Is `a` a better price than `b` on this side? */
  better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }

  /** Price of the n-th level from the top (0 = best); NaN past the last level. */
  priceFromTop(n: number): number {
    return n < this.count ? this.prices[this.count - 1 - n]! : Number.NaN;
  }

  qtyFromTop(n: number): number {
    return n < this.count ? this.qtys[this.count - 1 - n]! : 0;
  }

  /** Worst price held (NaN when empty): the level evicted when the side is full. */
  worstPrice(): number {
    return this.count > 0 ? this.prices[0]! : Number.NaN;
  }

  /**
   * Set a level's quantity (0 removes it). The caller keeps the side within maxLevels (see
   * SymbolBook.setLevel); inserting into a full side throws, as that would be a bug.
   */
  set(price: number, qty: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (qty > 0) {
        this.qtys[i] = qty;
        return;
      }
      this.prices.copyWithin(i, i + 1, this.count);
      this.qtys.copyWithin(i, i + 1, this.count);
      this.count--;
      return;
    }
    if (qty <= 0) return;
    if (this.count >= this.maxLevels) throw new Error(`book side full (${this.maxLevels} levels)`);
    if (this.count === this.prices.length) this.grow();
    const at = -i - 1;
    this.prices.copyWithin(at + 1, at, this.count);
    this.qtys.copyWithin(at + 1, at, this.count);
    this.prices[at] = price;
    this.qtys[at] = qty;
    this.count++;
  }

  private grow(): void {
    const room = Math.min(this.maxLevels, this.prices.length * 2);
    const p = new Float64Array(room);
    const q = new Float64Array(room);
    p.set(this.prices.subarray(0, this.count));
    q.set(this.qtys.subarray(0, this.count));
    this.prices = p;
    this.qtys = q;
  }

  /** Copy of all levels as [price, qty, price, qty, ...] best first (checkpoints, snapshots). */
  toPairs(limit = this.count): number[] {
    const n = Math.min(limit, this.count);
    const out = new Array<number>(n * 2);
    for (let j = 0; j < n; j++) {
      const i = this.count - 1 - j;
      out[2 * j] = this.prices[i]!;
      out[2 * j + 1] = this.qtys[i]!;
    }
    return out;
  }
}
