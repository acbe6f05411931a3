/**
 * Order flow against the simulator's book (book mode): between two marketable orders a seeded
 * number of limit orders and cancels arrive near the top of the book, then one marketable order
 * sweeps levels from the best price. Every trade is a fill against a level the book held, so the
 * trades, the diff stream and bookTicker all describe one book. Limit orders are always passive
 * (a bid below the best ask, an ask above the best bid), so the book never crosses.
 */
import type { SymbolBook } from "./book.ts";
import type { BookTickerRecord } from "./generator.ts";
import type { SymbolProfile } from "./market.ts";
import type { Rng } from "./rng.ts";

/** Levels per side at start, around the starting price. */
const SEED_LEVELS = 40;
/** Below this many levels a side gets limit orders and no cancels, so it never runs dry for long. */
const MIN_LEVELS = 10;
/** A marketable order fills at most this many levels (a price-protected order, not a book wipe). */
const MAX_SWEEP = 4;
/** Limit orders land within this many ticks behind the opposite best price (skewed: half within ~30). */
const PLACE_TICKS = 250;

/** One aggTrade: the fills against one price level (one trade per maker order filled). */
export interface Fill {
  priceScaled: number;
  qtys: number[];
}

export class OrderFlow {
  private lastTradeScaled: number;

  constructor(
    private readonly book: SymbolBook,
    private readonly p: SymbolProfile,
    private readonly rng: Rng,
    private readonly ordersPerTrade: number,
  ) {
    this.lastTradeScaled = p.initialTicks * p.tickScaled;
  }

  /** The starting book: SEED_LEVELS levels per side (at most the cap), one tick of spread at the starting price. */
  seed(): void {
    const p = this.p;
    const n = Math.min(SEED_LEVELS, this.book.cfg.maxLevels);
    for (let i = 0; i < n; i++) {
      const bidTicks = p.initialTicks - i;
      if (bidTicks >= 1) this.book.seedLevel(true, bidTicks * p.tickScaled, this.qty(2000));
      this.book.seedLevel(false, (p.initialTicks + 1 + i) * p.tickScaled, this.qty(2000));
    }
  }

  /**
   * One group: limit orders and cancels at times spread over (prevUs, takerUs), then the
   * marketable order at takerUs. Its fills (at least one) go to `fills`; returns Binance's `m`
   * (true when the taker sold, i.e. the buyer was the maker).
   */
  group(prevUs: number, takerUs: number, quotes: BookTickerRecord[], fills: Fill[]): boolean {
    const rng = this.rng;
    const makers = rng.int(2 * this.ordersPerTrade + 1);
    for (let i = 0; i < makers; i++) {
      const t = prevUs + Math.floor(((i + 1) * (takerUs - prevUs)) / (makers + 1));
      this.maker(t, quotes);
    }
    return this.taker(takerUs, quotes, fills);
  }

  /** Quantity in lot steps, skewed towards small orders: 1 + floor(u³ × max) steps. */
  private qty(max: number): number {
    const u = this.rng.next();
    return this.p.stepScaled * (1 + Math.floor(u * u * u * max));
  }

  private maker(timeUs: number, quotes: BookTickerRecord[]): void {
    const rng = this.rng;
    const b = this.book;
    let isBid = rng.next() < 0.5;
    if (b.bids.count < MIN_LEVELS) isBid = true;
    else if (b.asks.count < MIN_LEVELS) isBid = false;
    const side = b.side(isBid);
    if (side.count > MIN_LEVELS && rng.next() < 0.4) this.cancel(isBid);
    else this.place(isBid);
    b.commit(timeUs, quotes);
  }

  /** A limit order (passive): added to its level's quantity. */
  private place(isBid: boolean): void {
    const p = this.p;
    const b = this.book;
    const u = this.rng.next();
    const behind = (1 + Math.floor(u * u * u * PLACE_TICKS)) * p.tickScaled;
    const opposite = b.side(!isBid);
    const ref =
      opposite.count > 0 ? opposite.priceFromTop(0) : this.lastTradeScaled + (isBid ? 1 : -1) * p.tickScaled;
    const price = isBid ? ref - behind : ref + behind;
    if (price < p.tickScaled) return;
    b.setLevel(isBid, price, b.side(isBid).qtyAt(price) + this.qty(2000));
  }

  /** Cancel part or all of a level anywhere on the side (so levels the price left behind go too). */
  private cancel(isBid: boolean): void {
    const rng = this.rng;
    const step = this.p.stepScaled;
    const side = this.book.side(isBid);
    const i = rng.int(side.count);
    const price = side.priceFromTop(i);
    const units = side.qtyFromTop(i) / step;
    const left = units <= 1 || rng.next() < 0.5 ? 0 : units - (1 + rng.int(units - 1));
    this.book.setLevel(isBid, price, left * step);
  }

  private taker(timeUs: number, quotes: BookTickerRecord[], fills: Fill[]): boolean {
    const rng = this.rng;
    const p = this.p;
    const b = this.book;
    // Pulled back towards the starting price so a long run stays in the symbol's range.
    const start = p.initialTicks * p.tickScaled;
    const mid = this.lastTradeScaled;
    const pBuy = mid > 2 * start ? 0.3 : mid < start / 2 ? 0.7 : 0.5;
    const buy = rng.next() < pBuy;
    const side = b.side(!buy);
    if (side.count === 0) {
      this.place(!buy);
      b.commit(timeUs, quotes);
    }
    let left = this.qty(3000);
    for (let swept = 0; left > 0 && swept < MAX_SWEEP && side.count > 0; swept++) {
      const price = side.priceFromTop(0);
      const levelQty = side.qtyFromTop(0);
      const fill = Math.min(left, levelQty);
      b.setLevel(!buy, price, levelQty - fill);
      fills.push({ priceScaled: price, qtys: this.split(fill) });
      left -= fill;
      this.lastTradeScaled = price;
    }
    b.commit(timeUs, quotes);
    return !buy;
  }

  /** A fill split into 1-3 maker orders' trades of random sizes, each at least one lot step. */
  private split(fill: number): number[] {
    const step = this.p.stepScaled;
    let units = fill / step;
    const makers = 1 + this.rng.int(Math.min(3, units));
    const out: number[] = [];
    for (let i = makers - 1; i > 0; i--) {
      const take = 1 + this.rng.int(units - i);
      out.push(take * step);
      units -= take;
    }
    out.push(units * step);
    return out;
  }
}
