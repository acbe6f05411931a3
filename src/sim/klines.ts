/**
 * 1-minute klines built from the simulator's own trades, as Binance builds them
 * (web-socket-streams.md "Kline/Candlestick Streams"): per minute the first and last trade id
 * (`f`, `L`), the trade count `n`, open/high/low/close, base volume `v`, quote volume `q`, and the
 * taker-buy volumes `V`/`Q`. A minute without trades has n = 0, f = L = -1, every price at the
 * previous close and zero volumes. Withheld trades count (the exchange traded them; only sockets
 * missed them); ids lost at the source do not, so then n < L - f + 1.
 *
 * Quote volume is the sum of each trade's price × qty rounded down to 8 decimals (the REST
 * `quoteQty`), so it matches K2's per-trade rounding. Sums are kept in doubles while exact and
 * spill into a BigInt when they would pass 2^52, so the per-trade path stays allocation-free.
 */

import { partitionPoint } from "./search.ts";

export const MINUTE_US = 60_000_000;
const SPILL = 2 ** 52;
const SCALE = 100_000_000;

/** A closed (or in-progress) 1m kline; decimals scaled by 1e8. */
export interface KlineRecord {
  openUs: number;
  /** openUs + 1 minute - 1 µs (Binance: t + 59999 ms). */
  closeUs: number;
  firstId: number;
  lastId: number;
  count: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: bigint;
  quoteVolume: bigint;
  takerBuyVolume: bigint;
  takerBuyQuoteVolume: bigint;
  closed: boolean;
}

/** An exact non-negative integer sum: a double while below 2^52, spilling into a BigInt. */
class ExactSum {
  small = 0;
  big = 0n;
  add(n: number): void {
    this.small += n;
    if (this.small >= SPILL) {
      this.big += BigInt(this.small);
      this.small = 0;
    }
  }
  value(): bigint {
    return this.big + BigInt(this.small);
  }
  reset(): void {
    this.small = 0;
    this.big = 0n;
  }
}

/** floor(priceScaled × qtyScaled / 1e8), exact for any product whose result is below 2^53 (every simulated price × lot). */
export function quoteScaled(priceScaled: number, qtyScaled: number): number {
  const x = priceScaled * qtyScaled;
  if (x < 9_007_199_254_740_992) {
    let q = Math.floor(x / SCALE);
    if (q * SCALE > x) q--;
    else if ((q + 1) * SCALE <= x) q++;
    return q;
  }
  return Number((BigInt(priceScaled) * BigInt(qtyScaled)) / 100_000_000n);
}

export interface FalsifiedKline {
  openUs: number;
  trueCount: number;
  sentCount: number;
}
const FALSIFIED_MAX = 10_000;
/** Closed minutes REST `/api/v3/klines` can still answer, per symbol: two weeks. */
export const KLINE_HISTORY_MINUTES = 20_160;

export class KlineBuilder {
  /** Open time of the minute being built; NaN before the first close or trade. */
  private openUs = Number.NaN;
  private firstId = -1;
  private lastId = -1;
  private count = 0;
  private open = 0;
  private high = 0;
  private low = 0;
  private close: number;
  private readonly volume = new ExactSum();
  private readonly quote = new ExactSum();
  private readonly buyVolume = new ExactSum();
  private readonly buyQuote = new ExactSum();
  /** Count offsets to apply to the next closed minutes that have trades (the kline fault). */
  private pendingCountOffsets: number[] = [];
  /** Closed minutes not yet taken (takeClosed); the engine drains it every tick. */
  private closedQueue: KlineRecord[] = [];
  /** Minutes whose count was falsified, oldest first (bounded: the newest FALSIFIED_MAX). */
  readonly falsified: FalsifiedKline[] = [];
  /** Closed minutes as published (a falsified count included), oldest first, for REST. */
  readonly #history: KlineRecord[] = [];

  constructor(initialPriceScaled: number) {
    this.close = initialPriceScaled;
  }

  /** Falsify the next closed minute with trades: its `n` is reported as n + delta. */
  falsifyNextCount(delta: number): void {
    this.pendingCountOffsets.push(delta);
  }

  /** One trade, in time order. Minutes before its own must have been closed (closeUntil). */
  add(id: number, priceScaled: number, qtyScaled: number, timeUs: number, buyerMaker: boolean): void {
    const minute = timeUs - (timeUs % MINUTE_US);
    if (Number.isNaN(this.openUs)) this.begin(minute);
    else this.closeUntil(minute);
    if (this.count === 0) {
      this.firstId = id;
      this.open = priceScaled;
      this.high = priceScaled;
      this.low = priceScaled;
    } else {
      if (priceScaled > this.high) this.high = priceScaled;
      if (priceScaled < this.low) this.low = priceScaled;
    }
    this.lastId = id;
    this.close = priceScaled;
    this.count++;
    const q = quoteScaled(priceScaled, qtyScaled);
    this.volume.add(qtyScaled);
    this.quote.add(q);
    if (!buyerMaker) {
      // The buyer was the taker.
      this.buyVolume.add(qtyScaled);
      this.buyQuote.add(q);
    }
  }

  /**
   * Close every minute that ends at or before `completeUs` (all trades before it are known),
   * including empty minutes since the last one, with the count fault applied.
   */
  closeUntil(completeUs: number): void {
    if (Number.isNaN(this.openUs)) return;
    while (this.openUs + MINUTE_US <= completeUs) {
      const k = this.snapshot(true);
      if (k.count > 0 && this.pendingCountOffsets.length > 0) {
        const trueCount = k.count;
        k.count = Math.max(0, k.count + this.pendingCountOffsets.shift()!);
        if (this.falsified.length >= FALSIFIED_MAX) this.falsified.shift();
        this.falsified.push({ openUs: k.openUs, trueCount, sentCount: k.count });
      }
      this.closedQueue.push(k);
      this.#history.push(k);
      if (this.#history.length > KLINE_HISTORY_MINUTES) this.#history.splice(0, KLINE_HISTORY_MINUTES >> 3);
      this.begin(this.openUs + MINUTE_US);
    }
  }

  /** Closed minutes opening in [fromUs, toUs], oldest first, at most `limit` (REST /api/v3/klines). */
  closedBetween(fromUs: number, toUs: number, limit: number): KlineRecord[] {
    const h = this.#history;
    const lo = partitionPoint(0, h.length, (i) => h[i]!.openUs >= fromUs);
    const out: KlineRecord[] = [];
    for (let i = lo; i < h.length && h[i]!.openUs <= toUs && out.length < limit; i++) out.push(h[i]!);
    return out;
  }

  /** Move the closed minutes, oldest first, into `out`. */
  takeClosed(out: KlineRecord[]): void {
    for (const k of this.closedQueue) out.push(k);
    this.closedQueue.length = 0;
  }

  /** Start the clock at the minute containing `timeUs` (so empty minutes from there are emitted). */
  startAt(timeUs: number): void {
    if (Number.isNaN(this.openUs)) this.begin(timeUs - (timeUs % MINUTE_US));
  }

  /** The minute in progress (x = false), or null before the clock started. */
  current(): KlineRecord | null {
    return Number.isNaN(this.openUs) ? null : this.snapshot(false);
  }

  private snapshot(closed: boolean): KlineRecord {
    const empty = this.count === 0;
    return {
      openUs: this.openUs,
      closeUs: this.openUs + MINUTE_US - 1,
      firstId: empty ? -1 : this.firstId,
      lastId: empty ? -1 : this.lastId,
      count: this.count,
      open: empty ? this.close : this.open,
      high: empty ? this.close : this.high,
      low: empty ? this.close : this.low,
      close: this.close,
      volume: this.volume.value(),
      quoteVolume: this.quote.value(),
      takerBuyVolume: this.buyVolume.value(),
      takerBuyQuoteVolume: this.buyQuote.value(),
      closed,
    };
  }

  private begin(minuteUs: number): void {
    this.openUs = minuteUs;
    this.count = 0;
    this.firstId = -1;
    this.lastId = -1;
    this.volume.reset();
    this.quote.reset();
    this.buyVolume.reset();
    this.buyQuote.reset();
  }
}
