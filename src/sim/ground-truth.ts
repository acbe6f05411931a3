/**
 * Ground truth: which ids the simulator generated, withheld from sockets, or never generated
 * (missing at source), kept as compact inclusive ranges so a day of trades is a handful of numbers.
 * Tests and soak/chaos harnesses compare what K2 stored against this.
 */

import type { BookTruthSummary } from "./book-truth.ts";

/** Inclusive [first, last] id range. */
export type IdRange = [number, number];

/** Append-only set of increasing ids stored as merged ranges. */
export class RangeSet {
  readonly ranges: IdRange[] = [];
  private total = 0;

  /** Ids must arrive in increasing order (they do: one generator per symbol). */
  addRange(first: number, last: number): void {
    if (last < first) return;
    this.total += last - first + 1;
    const tail = this.ranges[this.ranges.length - 1];
    if (tail && tail[1] + 1 === first) tail[1] = last;
    else this.ranges.push([first, last]);
  }

  add(id: number): void {
    this.addRange(id, id);
  }

  get count(): number {
    return this.total;
  }

  has(id: number): boolean {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (id < r[0]) hi = mid - 1;
      else if (id > r[1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  toJSON(): IdRange[] {
    return this.ranges.map((r) => [r[0], r[1]]);
  }
}

export interface SymbolTruth {
  symbol: string;
  /** Trade ids generated (delivered to sockets or withheld), as ranges. */
  tradeIds: IdRange[];
  tradeCount: number;
  aggIds: IdRange[];
  aggCount: number;
  /** Generated but never sent on any socket; REST serves them (while in history). */
  withheldTradeIds: IdRange[];
  withheldAggIds: IdRange[];
  /** Skipped by the source: no socket and no REST answer will ever contain them. */
  missingAtSourceTradeIds: IdRange[];
  /** Oldest trade id REST can still serve (bounded history); null before the first trade. */
  restOldestTradeId: number | null;
  /** bookTicker update ids sent to at least one subscriber (only with recordQuoteIds). */
  quoteIds: IdRange[];
  quoteCount: number;
  /** Book mode: what `bookAt` can answer and the diff events the skip fault dropped; null without books. */
  book: BookTruthSummary | null;
}

export interface GroundTruth {
  /** Simulator clock when the snapshot was taken. */
  timeMs: number;
  symbols: Record<string, SymbolTruth>;
}

/** Per-symbol ledger the generator writes into. */
export class TruthLedger {
  readonly trades = new RangeSet();
  readonly aggs = new RangeSet();
  readonly withheldTrades = new RangeSet();
  readonly withheldAggs = new RangeSet();
  readonly missingAtSource = new RangeSet();
  readonly quotesSent = new RangeSet();

  snapshot(symbol: string, restOldestTradeId: number | null): Omit<SymbolTruth, "book"> {
    return {
      symbol,
      tradeIds: this.trades.toJSON(),
      tradeCount: this.trades.count,
      aggIds: this.aggs.toJSON(),
      aggCount: this.aggs.count,
      withheldTradeIds: this.withheldTrades.toJSON(),
      withheldAggIds: this.withheldAggs.toJSON(),
      missingAtSourceTradeIds: this.missingAtSource.toJSON(),
      restOldestTradeId,
      quoteIds: this.quotesSent.toJSON(),
      quoteCount: this.quotesSent.count,
    };
  }
}

/** Expand ranges to ids; for tests and small harness checks only (bounded by `max`). */
export function expandRanges(ranges: readonly IdRange[], max = 1_000_000): number[] {
  const out: number[] = [];
  for (const [a, b] of ranges) {
    for (let id = a; id <= b && out.length < max; id++) out.push(id);
  }
  return out;
}
