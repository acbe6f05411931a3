/**
 * The order-book subsystem (issue 18), on when K2_STREAMS lists `depth`: one BookCapture for all
 * symbols, fed the depth frames by ingest (Ingest's onDepth), its rows stored through ingest's
 * book entry (WAL, then ring), its REST snapshots through ingest's REST client and breaker (one
 * weight budget for repairs and snapshots), its resyncs in ingest's gap ledger. Opened after
 * ingest, stopped before it.
 */
import { type BookApi, levelsOut, seriesAnswer } from "../book/api.ts";
import { bookAt, bookSeries } from "../book/at.ts";
import { BookCapture, type BookRowStore } from "../book/capture.ts";
import { StoredThrough } from "../book/stored-through.ts";
import type { Catalog } from "../catalog/index.ts";
import type { Config } from "../config/index.ts";
import type { SymbolLookup } from "../decode/binance/index.ts";
import { checkBookRows } from "../ingest/book-rows.ts";
import { BookCommit } from "../ingest/ingest.ts";
import { BOOK_EVENT_ROWS_MAX } from "../model/book-rows.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { Table } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import type { Registry } from "../obs/metrics.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { RowQuery } from "../query/rows.ts";
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
  /** Where /v1/book reads stored rows; absent in a recorder, which serves no /v1 (src/roles/recorder.ts). */
  readonly engine?: QueryEngine;
  readonly ringCapacity: number;
  readonly registry: Registry;
}

export function openBooks(d: BooksDeps) {
  const { config } = d;
  if (!config.streams.includes("depth")) return undefined;
  const hot = d.ingest.ingest;
  /** Refusals by BookCommit status (k2_book_refusals_total{status}). */
  const refused: number[] = [];
  const stored = new StoredThrough(
    {
      maxId: (symbol) => d.catalog?.maxId("book_deltas", symbol),
      lastEventUs: (symbol) => d.catalog?.coverage("book_deltas", symbol)?.lastEventTimeUs,
    },
    nowUs,
  );
  const store: BookRowStore = {
    // Ingest takes at most half the ring per call (Ingest.onBookRows).
    maxRowsPerPut: Math.min(BOOK_EVENT_ROWS_MAX, d.ringCapacity >> 1),
    put(rows, from, count) {
      const r = hot.onBookRows(rows, from, count);
      if (r === BookCommit.OK && rows.kind[from] === Table.book_deltas)
        stored.put(d.symbols.name(rows.symbol_id[from]!), rows.id[from + count - 1]!);
      if (r === BookCommit.OK || r === BookCommit.DUPLICATE) return true;
      refused[r] = (refused[r] ?? 0) + 1;
      if (refused[r] === 1)
        d.log.warn({ status: r, table: rows.kind[from], count }, "book rows refused: the book resyncs");
      if (r === BookCommit.BAD_ROWS)
        d.log.error(
          { table: rows.kind[from], count, why: checkBookRows(rows, from, count) },
          "book rows refused as malformed",
        );
      return false;
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
  const engine = d.engine;
  const atDeps = engine && {
    rows: (q: RowQuery) => engine.rows(q),
    window: (s: string, cpUs: number, atUs: number) => engine.bookWindow(s, cpUs, atUs),
    gaps: (s: string) => d.ingest.ledger.entries({ symbol: s, table: "book_deltas" }),
    checkpointMs: config.bookCheckpointMs,
    // Without a catalog (no files written here) nothing is known to be pending.
    ...(d.catalog ? { horizonUs: (s: string) => stored.horizonUs(s) } : {}),
  };
  const api: BookApi | undefined = atDeps && {
    async answer(symbol, atUs, levels) {
      if (atUs === undefined) {
        const live = capture.live(symbol, levels);
        return live && { ...live, at_us: null, bids: levelsOut(live.bids), asks: levelsOut(live.asks) };
      }
      if (!capture.syncOf(symbol)) return undefined;
      const at = await bookAt(atDeps, symbol, atUs, levels);
      return { ...at, bids: levelsOut(at.bids), asks: levelsOut(at.asks) };
    },
    async series(symbol, startUs, endUs, intervalMs, levels) {
      if (!capture.syncOf(symbol)) return undefined;
      const all = await bookSeries(atDeps, symbol, startUs, endUs, intervalMs, levels);
      return seriesAnswer({ symbol, startUs, endUs, intervalMs, levels }, all);
    },
  };
  const reg = d.registry;
  reg.gauge("k2_books", "order books kept (K2_STREAMS depth)", () => capture.counts().books);
  reg.gauge(
    "k2_books_synced",
    "order books synced now (continuous from their last snapshot)",
    () => capture.counts().synced,
  );
  reg.counter(
    "k2_book_resyncs_total",
    "order-book resyncs (each a book_resync ledger entry)",
    () => capture.counts().resyncs,
  );
  reg.counter(
    "k2_book_snapshot_requests_total",
    "REST depth snapshots asked",
    () => capture.snapshotRequests,
  );
  reg.counter(
    "k2_book_refusals_total",
    "book events storage refused (each resets its book)",
    () => capture.refusals,
  );
  reg.counter(
    "k2_book_frames_rejected_total",
    "depth frames that did not decode (dead-lettered)",
    () => capture.rejected,
  );
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
