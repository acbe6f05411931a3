/**
 * The order-book subsystem (issue 18), on when K2_STREAMS lists `depth`: one BookCapture for all
 * symbols, fed the depth frames by ingest (Ingest's onDepth), its rows stored through ingest's
 * book entry (WAL, then ring), its REST snapshots through ingest's REST client and breaker (one
 * weight budget for repairs and snapshots), its resyncs in ingest's gap ledger. Opened after
 * ingest, stopped before it.
 */
import { type BookApi, levelsOut } from "../book/api.ts";
import { bookAt } from "../book/at.ts";
import { BookCapture, type BookRowStore } from "../book/capture.ts";
import type { Catalog } from "../catalog/index.ts";
import type { Config } from "../config/index.ts";
import type { SymbolLookup } from "../decode/binance/index.ts";
import { BookCommit } from "../ingest/ingest.ts";
import { BOOK_EVENT_ROWS_MAX } from "../model/book-rows.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import type { QueryEngine } from "../query/engine.ts";
import { nowUs } from "../source/binance/connection.ts";
import type { IngestSide } from "./ingest.ts";
import { once, Timers } from "./subsystem.ts";

/** How often quiet books are checked for instants they have passed (book_snapshots). */
const TICK_MS = 100;

export interface BooksDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly symbols: SymbolTable;
  readonly lookup: SymbolLookup;
  readonly ingest: IngestSide;
  readonly catalog?: Catalog;
  readonly engine: QueryEngine;
  readonly ringCapacity: number;
}

export function openBooks(d: BooksDeps) {
  const { config } = d;
  if (!config.streams.includes("depth")) return undefined;
  const hot = d.ingest.ingest;
  const store: BookRowStore = {
    // Ingest takes at most half the ring per call (Ingest.onBookRows).
    maxRowsPerPut: Math.min(BOOK_EVENT_ROWS_MAX, d.ringCapacity >> 1),
    put(rows, from, count) {
      const r = hot.onBookRows(rows, from, count);
      return r === BookCommit.OK || r === BookCommit.DUPLICATE;
    },
  };
  const capture = new BookCapture(
    {
      symbols: d.symbols,
      lookup: d.lookup,
      rest: d.ingest.rest,
      breaker: d.ingest.restBreaker,
      ledger: d.ingest.ledger,
      store,
      nowUs,
      // A delta id is `u` × 2^14 + position: the last stored one names the last stored update.
      stored: (symbol) => {
        const max = d.catalog?.maxId("book_deltas", symbol);
        const cov = d.catalog?.coverage("book_deltas", symbol);
        return max === undefined || !cov
          ? undefined
          : { updateId: Math.floor(max / BOOK_EVENT_ROWS_MAX), eventTimeUs: cov.lastEventTimeUs };
      },
      onReject: (frame, status, why) => hot.deps.deadLetters.push(frame, status, nowUs(), `depth:${why}`),
      log: d.log,
    },
    {
      snapshotLimit: config.bookSnapshotLimit,
      snapshotMs: config.bookSnapshotMs,
      levels: config.bookLevels,
      checkpointMs: config.bookCheckpointMs,
      checkPartial: config.streams.includes("depth20"),
    },
  );
  const api: BookApi = {
    async answer(symbol, atUs, levels) {
      if (atUs === undefined) {
        const live = capture.live(symbol, levels);
        return live && { ...live, at_us: null, bids: levelsOut(live.bids), asks: levelsOut(live.asks) };
      }
      if (!capture.syncOf(symbol)) return undefined;
      const at = await bookAt(
        {
          rows: (q) => d.engine.rows(q),
          gaps: (s) => d.ingest.ledger.entries({ symbol: s, table: "book_deltas" }),
          checkpointMs: config.bookCheckpointMs,
        },
        symbol,
        atUs,
        levels,
      );
      return { ...at, bids: levelsOut(at.bids), asks: levelsOut(at.asks) };
    },
  };
  const timers = new Timers();
  return {
    name: "books",
    capture,
    api,
    checks: {},
    start() {
      timers.every(TICK_MS, () => capture.tick());
    },
    stop: once(async () => {
      timers.clear();
      capture.stop();
    }),
  };
}

export type BooksSide = NonNullable<ReturnType<typeof openBooks>>;
