/**
 * The simulator's order book for one symbol (book mode, `books: true`): two BookSides, the book
 * update id, and the one place a change to the book is made. An order event (a limit order, a
 * cancel, a marketable order sweeping levels) stages its level changes with setLevel and then
 * commit() gives them ONE update id (Binance: each diff event carries U..u, the ids of the book
 * changes it covers), records them in the ground truth, hands them to the depth feed and, when
 * the top of the book moved, emits a bookTicker with that update id.
 */
import { BookSide } from "./book-side.ts";
import { BookTruth } from "./book-truth.ts";
import { DepthFeed } from "./depth-feed.ts";
import type { BookTickerRecord } from "./generator.ts";

export interface BookConfig {
  /** Cap on levels per side (Binance's deepest snapshot is 5000). */
  maxLevels: number;
  /** Mean number of limit orders and cancels between two marketable orders. */
  ordersPerTrade: number;
  /** How far back the ground truth can rebuild the book (bookAt). */
  truthMs: number;
}

export class SymbolBook {
  readonly bids: BookSide;
  readonly asks: BookSide;
  readonly truth: BookTruth;
  readonly feed = new DepthFeed();
  /** Id of the last committed book change (startUpdateId before the first). */
  updateId: number;
  /** Time of the last committed change (µs). */
  lastChangeUs: number;
  /** Level changes staged by the event being built: [isBid 1|0, price, qty] triples. */
  private readonly staged: number[] = [];
  /** Top of book last published on bookTicker: bid, bidQty, ask, askQty. */
  private readonly lastTop = [0, 0, 0, 0];

  constructor(
    readonly symbol: string,
    startUpdateId: number,
    startUs: number,
    readonly cfg: BookConfig,
  ) {
    this.bids = new BookSide(true, cfg.maxLevels);
    this.asks = new BookSide(false, cfg.maxLevels);
    this.updateId = startUpdateId;
    this.lastChangeUs = startUs;
    this.truth = new BookTruth(cfg.truthMs);
    this.feed.onPublish = (eventUs, finalId) => this.truth.notePublished(eventUs, finalId);
  }

  side(isBid: boolean): BookSide {
    return isBid ? this.bids : this.asks;
  }

  /**
   * The starting book, before any update id: the ground truth's first checkpoint is taken after
   * the last call (see seal).
   */
  seedLevel(isBid: boolean, price: number, qty: number): void {
    this.side(isBid).set(price, qty);
  }

  /** End of seeding: the book as it is now is the one at startUpdateId. */
  seal(): void {
    this.truth.checkpoint(this.updateId, this.lastChangeUs, this);
    this.noteTop();
  }

  /**
   * Stage a level's new quantity (0 removes it). A new level on a full side evicts the worst one
   * (a removal the diff stream carries too) or, when it would itself be the worst, is refused:
   * returns false and changes nothing.
   */
  setLevel(isBid: boolean, price: number, qty: number): boolean {
    const s = this.side(isBid);
    const old = s.qtyAt(price);
    if (old === qty) return true;
    if (old === 0 && s.count >= s.maxLevels) {
      const worst = s.worstPrice();
      if (!s.better(price, worst)) return false;
      s.set(worst, 0);
      this.staged.push(isBid ? 1 : 0, worst, 0);
    }
    s.set(price, qty);
    this.staged.push(isBid ? 1 : 0, price, qty);
    return true;
  }

  /**
   * Give the staged changes the next update id. Returns false (no id used) when nothing changed.
   * `quotes` receives a bookTicker when the best bid or ask (price or quantity) moved.
   */
  commit(timeUs: number, quotes: BookTickerRecord[]): boolean {
    const ch = this.staged;
    if (ch.length === 0) return false;
    this.updateId++;
    this.lastChangeUs = timeUs;
    this.truth.record(this.updateId, timeUs, ch, this);
    this.feed.collect(this.updateId, ch);
    ch.length = 0;
    const t = this.lastTop;
    const b = this.bids;
    const a = this.asks;
    if (b.count === 0 || a.count === 0) return true;
    if (
      t[0] !== b.priceFromTop(0) ||
      t[1] !== b.qtyFromTop(0) ||
      t[2] !== a.priceFromTop(0) ||
      t[3] !== a.qtyFromTop(0)
    ) {
      this.noteTop();
      quotes.push({
        updateId: this.updateId,
        bidScaled: t[0]!,
        bidQtyScaled: t[1]!,
        askScaled: t[2]!,
        askQtyScaled: t[3]!,
      });
    }
    return true;
  }

  private noteTop(): void {
    const t = this.lastTop;
    t[0] = this.bids.priceFromTop(0);
    t[1] = this.bids.qtyFromTop(0);
    t[2] = this.asks.priceFromTop(0);
    t[3] = this.asks.qtyFromTop(0);
  }
}
