/**
 * What `/v1/book` answers (src/http/routes/v1/book.ts): the live book from the capture, or the
 * book at an instant rebuilt from storage (at.ts), in one JSON shape. Decimals are strings with
 * 8 places, as in every other table; each level says what it is worth (rebuild.ts).
 */
import { formatDecimal } from "../model/decimal.ts";
import type { BookAt } from "./at.ts";
import type { BookStatus } from "./capture.ts";
import type { LevelState, RebuiltLevel } from "./rebuild.ts";

export interface BookLevelOut {
  price: string;
  quantity: string;
  state: LevelState;
  known_time_us: number;
}

export interface BookAnswer {
  symbol: string;
  /** The instant asked for; null for the live book. */
  at_us: number | null;
  /** Live: idle / waiting / synced. At an instant: synced / not_synced / no_data. */
  state: BookStatus["state"] | BookAt["state"];
  update_id: number;
  bids: BookLevelOut[];
  asks: BookLevelOut[];
  /** Live: the capture's counters. At an instant: the base it was rebuilt from and the resync window. */
  [more: string]: unknown;
}

export interface BookSeriesAnswer {
  symbol: string;
  start_us: number;
  end_us: number;
  interval_ms: number;
  levels: number;
  snapshots: {
    time_us: number;
    state: BookAt["state"];
    update_id: number;
    bids: BookLevelOut[];
    asks: BookLevelOut[];
  }[];
}

export interface BookApi {
  /** undefined: the symbol has no book here (not configured, or K2_STREAMS lacks depth). */
  answer(symbol: string, atUs: number | undefined, levels: number): Promise<BookAnswer | undefined>;
  /** The book every `intervalMs` over [startUs, endUs], computed from the stored deltas. */
  series(
    symbol: string,
    startUs: number,
    endUs: number,
    intervalMs: number,
    levels: number,
  ): Promise<BookSeriesAnswer | undefined>;
}

export function levelsOut(levels: readonly RebuiltLevel[]): BookLevelOut[] {
  return levels.map((l) => ({
    price: formatDecimal(l.price),
    quantity: formatDecimal(l.quantity),
    state: l.state,
    known_time_us: l.known_time_us,
  }));
}

type SeriesSnapshot = BookSeriesAnswer["snapshots"][number];

/** One instant of a /v1/book/snapshots answer. */
export function seriesSnapshot(a: BookAt): SeriesSnapshot {
  return {
    time_us: a.at_us,
    state: a.state,
    update_id: a.update_id,
    bids: levelsOut(a.bids),
    asks: levelsOut(a.asks),
  };
}

/**
 * A /v1/book/snapshots answer of the books rebuilt at each instant, `mark` adjusting each one
 * (a query node marks instants its stored chain cannot vouch for).
 */
export function seriesAnswer(
  q: { symbol: string; startUs: number; endUs: number; intervalMs: number; levels: number },
  books: readonly BookAt[],
  mark: (s: SeriesSnapshot, a: BookAt) => SeriesSnapshot = (s) => s,
): BookSeriesAnswer {
  return {
    symbol: q.symbol,
    start_us: q.startUs,
    end_us: q.endUs,
    interval_ms: q.intervalMs,
    levels: q.levels,
    snapshots: books.map((a) => mark(seriesSnapshot(a), a)),
  };
}
