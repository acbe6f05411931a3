/**
 * QueryEngine: the one object the HTTP layer calls. It checks budgets and symbols, then runs
 * row, candle, summary and coverage queries over cold files (DuckDB) and hot rows (memory).
 */

import { readWhileFilesVanish } from "../catalog/vanished.ts";
import { keyDefault } from "../config/key-default.ts";
import type { GapEntry } from "../model/gaps.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_NAMES, type TableName } from "../model/tables.ts";
import { type BookWindow, bookWindow } from "./book-window.ts";
import { CandleCache } from "./candle-cache.ts";
import { DEFAULT_DUCK_OPTIONS, Duck, type DuckOptions, isVanishedFileError } from "./duck.ts";
import { HotWindow } from "./hot.ts";
import {
  type CandlePartial,
  candles,
  INTERVAL_US,
  type OhlcvQuery,
  type OhlcvResult,
  ohlcvPartials,
} from "./ohlcv.ts";
import { RowCache } from "./row-cache.ts";
import { queryRows, type RowQuery, type RowResult, rowStamp } from "./rows.ts";
import { type Coverage, type FileInfo, type FileSource, QueryError } from "./types.ts";

export interface EngineOptions extends DuckOptions {
  /** Rows kept in memory per table and symbol (K2_QUERY_HOT_ROWS). */
  readonly hotRowsPerSymbol: number;
  /** A query whose files hold more rows than this is refused with 413 (K2_QUERY_MAX_SCAN_ROWS). */
  readonly maxScanRows: number;
  /** A time range longer than this is refused with 422 (K2_QUERY_MAX_RANGE_DAYS, in µs here). */
  readonly maxRangeUs: number;
  /** Candle partials cached per immutable file (0 = off); see candle-cache.ts. */
  readonly candleCachePartials: number;
  /** Cells (rows × columns) of cold row-query results cached (0 = off); see row-cache.ts. */
  readonly rowCacheCells: number;
}

/** K2's defaults (src/config/keys.ts) for an engine opened without a loaded Config. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  ...DEFAULT_DUCK_OPTIONS,
  hotRowsPerSymbol: keyDefault("queryHotRows"),
  maxScanRows: keyDefault("queryMaxScanRows"),
  maxRangeUs: keyDefault("queryMaxRangeDays") * 86_400_000_000,
  candleCachePartials: keyDefault("queryCandleCache"),
  rowCacheCells: keyDefault("queryRowCache"),
};

/** What the gap ledger offers the engine (GapLedger satisfies it). */
export interface GapView {
  entries(filter?: { symbol?: string }): readonly GapEntry[];
}

export interface EngineDeps {
  readonly source: FileSource;
  readonly symbols: SymbolTable;
  readonly gaps?: GapView;
  /** Wall clock in µs; injectable for tests. */
  readonly nowUs?: () => number;
  /** Scale for the scan budget (the degradation level's queryBudgetScale: 1 … 0.25). */
  readonly budgetScale?: () => number;
}

export interface DailySummary {
  readonly symbol: string;
  readonly date: string;
  readonly candle: CandlePartial | null;
  readonly gaps: readonly GapEntry[];
  readonly incomplete: boolean;
}

export class QueryEngine {
  readonly hot: HotWindow;
  readonly duck: Duck;
  readonly candles: CandleCache;
  readonly rowCache: RowCache;
  readonly #deps: EngineDeps;
  readonly #opts: EngineOptions;
  readonly nowUs: () => number;

  private constructor(duck: Duck, deps: EngineDeps, opts: EngineOptions) {
    this.duck = duck;
    this.#deps = deps;
    this.#opts = opts;
    this.hot = new HotWindow(deps.symbols, { rowsPerSymbol: opts.hotRowsPerSymbol });
    this.candles = new CandleCache({ maxPartials: opts.candleCachePartials });
    this.rowCache = new RowCache({ maxCells: opts.rowCacheCells });
    this.nowUs = deps.nowUs ?? (() => Date.now() * 1000);
  }

  static async open(deps: EngineDeps, opts: Partial<EngineOptions> = {}): Promise<QueryEngine> {
    const o = { ...DEFAULT_ENGINE_OPTIONS, ...opts };
    return new QueryEngine(await Duck.open(o), deps, o);
  }

  close(): void {
    this.duck.close();
  }

  /** 404 unless the symbol is configured or has stored rows. */
  checkSymbol(symbol: string): void {
    if (this.#deps.symbols.id(symbol) !== undefined) return;
    if (this.#deps.source.coverage().some((c) => c.symbol === symbol)) return;
    throw new QueryError(
      "unknown_symbol",
      `unknown symbol ${symbol}: not configured and no stored data`,
      "symbol",
    );
  }

  /** 422 when [fromUs, toUs) is longer than the configured maximum. */
  #checkRange(fromUs?: number, toUs?: number): void {
    if (fromUs !== undefined && toUs !== undefined && toUs - fromUs > this.#opts.maxRangeUs) {
      throw new QueryError(
        "range_too_large",
        `time range of ${Math.ceil((toUs - fromUs) / 86_400_000_000)} days exceeds the limit of ${this.#opts.maxRangeUs / 86_400_000_000} days`,
        "end",
        this.#opts.maxRangeUs,
      );
    }
  }

  /** 413 when the files DuckDB would read hold more rows than the scan budget. */
  #checkScan(files: readonly FileInfo[]): void {
    let rows = 0;
    for (const f of files) rows += f.rows;
    // Under load the budget shrinks (degradation), so heavy scans wait and ingest keeps its core.
    const scale = this.#deps.budgetScale?.() ?? 1;
    const limit = Math.floor(this.#opts.maxScanRows * scale);
    if (rows > limit) {
      const why =
        scale < 1 ? ` (the configured ${this.#opts.maxScanRows} × ${scale} while K2 is under load)` : "";
      throw new QueryError(
        "too_many_rows",
        `query would scan ${rows} stored rows, over the limit of ${limit}${why}; narrow start/end`,
        "start",
        limit,
      );
    }
  }

  #budget(table: TableName, symbol: string, fromUs?: number, toUs?: number): void {
    this.#checkRange(fromUs, toUs);
    this.#checkScan(this.#deps.source.files({ table, symbol, fromUs, toUs }));
  }

  /**
   * Run `query` (which lists its files itself); when a listed file was gone by the time DuckDB
   * opened it and the source can list again, list and run it again (bounded). A source that pins
   * its files (a single process) never sees this; a query node's folder changes under it.
   */
  #relisting<T>(query: () => Promise<T>): Promise<T> {
    const source = this.#deps.source;
    const relist = source.relist;
    if (!relist) return query();
    return readWhileFilesVanish(query, isVanishedFileError, () => relist.call(source));
  }

  /** A checkpoint and the deltas after it, in one query (src/query/book-window.ts); null: no checkpoint then. */
  bookWindow(symbol: string, cpUs: number, atUs: number): Promise<BookWindow | null> {
    this.checkSymbol(symbol);
    return this.#relisting(() => bookWindow(this.duck, this.#deps.source, symbol, cpUs, atUs));
  }

  async rows(q: RowQuery): Promise<RowResult> {
    this.checkSymbol(q.symbol);
    this.#checkRange(q.fromUs, q.toUs);
    // Row pages are id-ordered with a LIMIT: the budget counts only the files each SELECT is
    // given (an id window around the cursor), so the 100 newest trades of a symbol with a year
    // of history are not refused; a page served from memory alone scans nothing.
    return this.#relisting(() =>
      queryRows(this.duck, this.#deps.source, this.hot, q, (files) => this.#checkScan(files), this.rowCache),
    );
  }

  /** See rowStamp: unchanged since a page's `stamp` means that page is still the answer. */
  rowStamp(table: TableName, symbol: string): string | undefined {
    return rowStamp(this.#deps.source, this.hot, table, symbol);
  }

  async ohlcv(q: OhlcvQuery): Promise<OhlcvResult> {
    this.checkSymbol(q.symbol);
    return this.#relisting(() => this.#ohlcvOnce(q));
  }

  async #ohlcvOnce(q: OhlcvQuery): Promise<OhlcvResult> {
    this.#budget("trades", q.symbol, q.fromUs, q.toUs);
    const { partials, incomplete } = await ohlcvPartials(
      this.duck,
      this.#deps.source,
      this.hot,
      {
        ...q,
        maxBuckets: q.limit + 1,
      },
      this.candles,
    );
    return { ...candles(q, partials), incomplete };
  }

  /** Daily OHLC, volume, vwap, count and id range for one UTC date, with the ledger's gaps in it. */
  async summary(symbol: string, date: string): Promise<DailySummary> {
    this.checkSymbol(symbol);
    return this.#relisting(() => this.#summaryOnce(symbol, date));
  }

  async #summaryOnce(symbol: string, date: string): Promise<DailySummary> {
    const fromUs = Date.parse(`${date}T00:00:00Z`) * 1000;
    const toUs = fromUs + INTERVAL_US["1d"];
    this.#budget("trades", symbol, fromUs, toUs);
    const { partials, incomplete } = await ohlcvPartials(
      this.duck,
      this.#deps.source,
      this.hot,
      {
        symbol,
        interval: "1d",
        fromUs,
        toUs,
        maxBuckets: 1,
      },
      this.candles,
    );
    const candle = partials[0] ?? null;
    const gaps = candle
      ? (this.#deps.gaps?.entries({ symbol }) ?? []).filter(
          (g) => g.table === "trades" && g.to_id >= candle.firstId && g.from_id <= candle.lastId,
        )
      : [];
    return { symbol, date, candle, gaps, incomplete };
  }

  /** Stored coverage per table and symbol, extended by hot rows not yet in files. */
  coverage(): Coverage[] {
    const out = new Map<string, Coverage>();
    for (const c of this.#deps.source.coverage()) out.set(`${c.table}:${c.symbol}`, c);
    for (const { table, symbol, ring } of this.hot.entries()) {
      const key = `${table}:${symbol}`;
      const c = out.get(key);
      const k0 = ring.firstAbove(c?.maxId ?? -1);
      const n = ring.size - k0;
      if (n === 0) continue;
      const first = ring.timeUs[ring.at(k0)]!;
      const last = ring.timeUs[ring.at(ring.size - 1)]!;
      out.set(key, {
        table,
        symbol,
        firstUs: c ? Math.min(c.firstUs, first) : first,
        lastUs: c ? Math.max(c.lastUs, last) : last,
        minId: c ? c.minId : ring.id[ring.at(k0)]!,
        maxId: ring.newestId,
        rows: (c?.rows ?? 0) + n,
        files: c?.files ?? 0,
      });
    }
    return [...out.values()].sort(
      (a, b) => a.symbol.localeCompare(b.symbol) || a.table.localeCompare(b.table),
    );
  }

  gaps(symbol?: string): readonly GapEntry[] {
    return this.#deps.gaps?.entries(symbol === undefined ? {} : { symbol }) ?? [];
  }

  /**
   * Age in ms of the newest row for `symbol` (any table), or of the newest row at all; null when
   * nothing is stored. The newest row's own time column is used, not when we wrote it.
   */
  freshnessMs(symbol?: string): number | null {
    let newest = -1;
    for (const c of this.#deps.source.coverage())
      if (symbol === undefined || c.symbol === symbol) newest = Math.max(newest, c.lastUs);
    // Asked on every /v1 request (X-Data-Freshness-Ms): one symbol looks up its rings directly.
    if (symbol !== undefined)
      for (const table of TABLE_NAMES)
        newest = Math.max(newest, this.hot.ring(table, symbol)?.newestTimeUs ?? -1);
    else for (const { ring } of this.hot.entries()) newest = Math.max(newest, ring.newestTimeUs ?? -1);
    return newest < 0 ? null : Math.max(0, Math.round((this.nowUs() - newest) / 1000));
  }

  get healthy(): boolean {
    return this.duck.healthy;
  }
}
