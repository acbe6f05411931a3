/**
 * Bounded per-symbol history that REST answers from: columnar rings of the last `capacity` trades
 * and aggTrades. Ids are increasing but may jump (ids lost at the source), so look-ups binary-search.
 */

import { partitionPoint } from "./search.ts";

export interface TradeRecord {
  id: number;
  priceScaled: number;
  qtyScaled: number;
  timeUs: number;
  buyerMaker: boolean;
}

export interface AggRecord {
  aggId: number;
  firstId: number;
  lastId: number;
  priceScaled: number;
  qtyScaled: number;
  timeUs: number;
  buyerMaker: boolean;
}

/**
 * Columnar ring: typed arrays, so history costs no allocation per trade. Storage starts small and
 * doubles up to `capacity`, so a symbol with little history costs little memory.
 */
class Ring {
  cols: Float64Array[];
  private start = 0;
  size = 0;

  constructor(
    readonly capacity: number,
    private readonly columns: number,
  ) {
    this.cols = this.alloc(Math.min(capacity, 1024));
  }

  private alloc(n: number): Float64Array[] {
    return Array.from({ length: this.columns }, () => new Float64Array(n));
  }

  push(values: readonly number[]): void {
    let room = this.cols[0]!.length;
    if (this.size === room && room < this.capacity) {
      const next = this.alloc(Math.min(this.capacity, room * 2));
      for (let c = 0; c < this.columns; c++) {
        const old = this.cols[c]!;
        next[c]!.set(old.subarray(this.start), 0);
        next[c]!.set(old.subarray(0, this.start), room - this.start);
      }
      this.cols = next;
      this.start = 0;
      room = next[0]!.length;
    }
    const slot = (this.start + this.size) % room;
    for (let c = 0; c < this.columns; c++) this.cols[c]![slot] = values[c]!;
    if (this.size < room) this.size++;
    else this.start = (this.start + 1) % room;
  }

  /** Physical slot of logical index i (0 = oldest). */
  slot(i: number): number {
    return (this.start + i) % this.cols[0]!.length;
  }

  /** Logical index of the first value >= key in a non-decreasing column, or size. */
  lowerBound(key: number, col = 0): number {
    const keys = this.cols[col]!;
    return partitionPoint(0, this.size, (i) => keys[this.slot(i)]! >= key);
  }

  /** Logical range [from, to) for REST: from fromId, or the newest `limit` when fromId is null. */
  window(fromKey: number | null, limit: number): [number, number] {
    const from = fromKey === null ? Math.max(0, this.size - limit) : this.lowerBound(fromKey);
    return [from, Math.min(this.size, from + limit)];
  }
}

export class TradeHistory {
  private readonly trades: Ring;
  private readonly aggs: Ring;
  /** Scratch row reused by pushTrade: no allocation per trade on the generation path. */
  private readonly tradeRow = [0, 0, 0, 0, 0];

  constructor(capacity: number) {
    this.trades = new Ring(capacity, 5);
    this.aggs = new Ring(capacity, 7);
  }

  pushTrade(id: number, priceScaled: number, qtyScaled: number, timeUs: number, buyerMaker: boolean): void {
    const row = this.tradeRow;
    row[0] = id;
    row[1] = priceScaled;
    row[2] = qtyScaled;
    row[3] = timeUs;
    row[4] = buyerMaker ? 1 : 0;
    this.trades.push(row);
  }

  pushAgg(a: AggRecord): void {
    this.aggs.push([
      a.aggId,
      a.firstId,
      a.lastId,
      a.priceScaled,
      a.qtyScaled,
      a.timeUs,
      a.buyerMaker ? 1 : 0,
    ]);
  }

  oldestTradeId(): number | null {
    return this.trades.size === 0 ? null : this.trades.cols[0]![this.trades.slot(0)]!;
  }

  /** GET /api/v3/historicalTrades semantics: ids >= fromId (or the newest), at most `limit`. */
  tradesFrom(fromId: number | null, limit: number): TradeRecord[] {
    const [a, b] = this.trades.window(fromId, limit);
    const c = this.trades.cols;
    const out: TradeRecord[] = [];
    for (let i = a; i < b; i++) {
      const s = this.trades.slot(i);
      out.push({
        id: c[0]![s]!,
        priceScaled: c[1]![s]!,
        qtyScaled: c[2]![s]!,
        timeUs: c[3]![s]!,
        buyerMaker: c[4]![s] === 1,
      });
    }
    return out;
  }

  /** GET /api/v3/aggTrades semantics: aggregate ids >= fromId (or the newest), at most `limit`. */
  aggsFrom(fromId: number | null, limit: number): AggRecord[] {
    const [a, b] = this.aggs.window(fromId, limit);
    return this.aggSlice(a, b);
  }

  /** aggTrades by time: T in [startUs, endUs], oldest first, at most `limit`. */
  aggsBetween(startUs: number, endUs: number, limit: number): AggRecord[] {
    const a = this.aggs.lowerBound(startUs, 5);
    const b = Math.min(this.aggs.lowerBound(endUs + 1, 5), a + limit);
    return this.aggSlice(a, b);
  }

  private aggSlice(a: number, b: number): AggRecord[] {
    const c = this.aggs.cols;
    const out: AggRecord[] = [];
    for (let i = a; i < b; i++) {
      const s = this.aggs.slot(i);
      out.push({
        aggId: c[0]![s]!,
        firstId: c[1]![s]!,
        lastId: c[2]![s]!,
        priceScaled: c[3]![s]!,
        qtyScaled: c[4]![s]!,
        timeUs: c[5]![s]!,
        buyerMaker: c[6]![s] === 1,
      });
    }
    return out;
  }
}
