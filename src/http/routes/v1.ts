/**
 * v1Routes(deps): the public market-data API under /v1 as one Elysia plugin. The gate (CORS,
 * body cap, API key, rate limit, freshness header) runs on every /v1 request before routing;
 * route groups parse, call the query engine, serialize.
 */
import { Elysia } from "elysia";
import type { CounterChild, Histogram, Registry } from "../../obs/metrics.ts";
import type { QueryEngine } from "../../query/engine.ts";
import { clientAddress } from "../client-address.ts";
import { bookRoutes } from "./v1/book.ts";
import { completenessRoutes } from "./v1/completeness.ts";
import type { V1Context } from "./v1/context.ts";
import { DEFAULT_GUARD_OPTIONS, Guard, type GuardOptions } from "./v1/guard.ts";
import { metaRoutes } from "./v1/meta.ts";
import { ohlcvRoutes } from "./v1/ohlcv.ts";
import { PageCache } from "./v1/page-cache.ts";
import { replayRoutes } from "./v1/replay.ts";
import { RowTextCache } from "./v1/row-text.ts";
import { rowsRoutes } from "./v1/rows.ts";
import { type LoadView, shed } from "./v1/shed.ts";

export interface ApiOptions extends GuardOptions {
  /** Rows per storage page while replaying (K2_REPLAY_PAGE_ROWS). */
  readonly replayPageRows: number;
  /** Bytes of encoded row pages kept (v1/page-cache.ts); 0 turns the cache off. */
  readonly pageCacheBytes: number;
  /** Rows whose JSON text is kept (v1/row-text.ts): 0 or a power of two. */
  readonly rowTextSlots: number;
}

export const DEFAULT_API_OPTIONS: ApiOptions = {
  ...DEFAULT_GUARD_OPTIONS,
  replayPageRows: 5_000,
  // A 100-trade JSON page is ~39 KB: 16 MiB holds a few hundred pages, and a 4 MiB page at most.
  pageCacheBytes: 16 * 1024 * 1024,
  // ~400 B per trade row: ~6 MiB at most; the newest 16,384 rows of one symbol never collide.
  rowTextSlots: 16_384,
};

export interface V1Deps {
  readonly engine: QueryEngine;
  readonly registry: Registry;
  readonly options?: Partial<ApiOptions>;
  /** Wall clock in ms for the rate limiter; injectable for tests. */
  readonly nowMs?: () => number;
  /** The degradation level: high levels shed queries with 503 (see v1/shed.ts). */
  readonly load?: LoadView;
  /** Certificates for /v1/completeness (the "all" role; see src/completeness/). */
  readonly certify?: V1Context["certify"];
  /** Order books for /v1/book (the "all" role with K2_STREAMS listing depth). */
  readonly books?: V1Context["books"];
}

/** Route names → latency histogram names; a fixed set, so metrics stay bounded. */
const ROUTES: Record<string, string> = {
  "/v1/trades": "trades",
  "/v1/trades/recent": "trades_recent",
  "/v1/agg-trades": "agg_trades",
  "/v1/quotes": "quotes",
  "/v1/book/deltas": "book_deltas",
  "/v1/ohlcv": "ohlcv",
  "/v1/ohlcv/batch": "ohlcv_batch",
  "/v1/summary/:symbol": "summary",
  "/v1/symbols": "symbols",
  "/v1/gaps": "gaps",
  "/v1/completeness": "completeness",
  "/v1/book": "book",
  "/v1/book/snapshots": "book_snapshots",
  "/v1/book/stream": "book_stream",
  "/v1/replay": "replay",
};
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Symbol a request is about, for X-Data-Freshness-Ms (query `symbol` or /summary/:symbol), upper-cased as the routes do. */
function symbolOf(url: URL): string | undefined {
  const q = url.searchParams.get("symbol");
  if (q) return q.toUpperCase();
  const m = /^\/v1\/summary\/([A-Za-z0-9]{2,20})$/.exec(url.pathname);
  return m?.[1]?.toUpperCase();
}

export function v1Routes(deps: V1Deps) {
  const opts: ApiOptions = { ...DEFAULT_API_OPTIONS, ...deps.options };
  const guard = new Guard(opts, deps.nowMs);
  const engine = deps.engine;
  const pages = new PageCache(opts.pageCacheBytes);
  const rowTexts = new RowTextCache(opts.rowTextSlots);
  const ctx: V1Context = {
    engine,
    replayPageRows: opts.replayPageRows,
    pages,
    rowTexts,
    ...(deps.certify ? { certify: deps.certify } : {}),
    ...(deps.books ? { books: deps.books } : {}),
  };
  const reg = deps.registry;
  const latency = new Map<string, Histogram>();
  for (const [route, name] of Object.entries(ROUTES))
    latency.set(
      route,
      reg.histogram(
        `k2_api_${name}_seconds`,
        `latency of ${route} until the response is handed back`,
        LATENCY_BUCKETS_S,
      ),
    );
  const requests = reg.counter("k2_api_requests_total", "/v1 requests by route and status class");
  // Each child resolved once, on first use (Counter#with stringifies its labels on every call).
  // Bounded: routes are the registered patterns, classes the first digit of a status.
  const children = new Map<string, CounterChild[]>();
  const requestCounter = (route: string, cls: number): CounterChild => {
    let row = children.get(route);
    if (!row) {
      row = [];
      children.set(route, row);
    }
    row[cls] ??= requests.with({ route: ROUTES[route] ?? "other", status: `${cls}xx` });
    return row[cls];
  };
  reg.counter("k2_query_total", "queries run by the DuckDB engine", () => engine.duck.queries);
  reg.gauge(
    "k2_query_duckdb_memory_bytes",
    "memory DuckDB accounts for itself (duckdb_memory(), read every 5 s; -1 before the first reading)",
    () => engine.duck.memoryBytes,
  );
  // Hot windows fill up to a bound and then stay: their fill says when memory reaches steady state.
  reg.gauge("k2_query_hot_rows", "rows held in the in-memory hot windows", () => {
    let n = 0;
    for (const { ring } of engine.hot.entries()) n += ring.size;
    return n;
  });
  reg.gauge("k2_query_hot_capacity_rows", "capacity of the hot windows that exist", () => {
    let n = 0;
    for (const { ring } of engine.hot.entries()) n += ring.capacity;
    return n;
  });
  reg.gauge(
    "k2_query_hot_reserved_bytes",
    "bytes the hot windows that exist reserve (resident once each has filled)",
    () => {
      let n = 0;
      for (const { ring } of engine.hot.entries()) n += ring.reservedBytes;
      return n;
    },
  );
  reg.gauge(
    "k2_query_hot_filled_bytes",
    "bytes of the hot windows written so far (they grow to the reserved bytes as the windows fill)",
    () => {
      let n = 0;
      for (const { ring } of engine.hot.entries()) n += ring.filledBytes;
      return n;
    },
  );
  reg.counter(
    "k2_query_refused_total",
    "queries refused because the engine queue was full",
    () => engine.duck.refused,
  );
  reg.counter(
    "k2_query_candle_cache_hits_total",
    "OHLCV file partials served from the cache",
    () => engine.candles.hits,
  );
  reg.counter(
    "k2_query_candle_cache_misses_total",
    "OHLCV file partials aggregated by DuckDB",
    () => engine.candles.misses,
  );
  reg.counter(
    "k2_query_candle_cache_evicted_total",
    "cached file partials dropped to stay within the capacity",
    () => engine.candles.evicted,
  );
  reg.counter(
    "k2_query_candle_cache_refused_total",
    "file partials not cached because one entry would exceed a quarter of the capacity",
    () => engine.candles.refused,
  );
  reg.gauge(
    "k2_query_candle_cache_partials",
    "file partials (one per file and bucket) held by the OHLCV candle cache",
    () => engine.candles.size,
  );
  reg.counter(
    "k2_query_row_cache_hits_total",
    "stored-row query results served from the cache (or shared with the same query running)",
    () => engine.rowCache.hits,
  );
  reg.counter(
    "k2_query_row_cache_misses_total",
    "stored-row queries run by DuckDB",
    () => engine.rowCache.misses,
  );
  reg.gauge(
    "k2_query_row_cache_cells",
    "cells held by the stored-row result cache",
    () => engine.rowCache.cells,
  );
  reg.counter("k2_api_page_cache_hits_total", "row pages sent from the encoded page cache", () => pages.hits);
  reg.counter(
    "k2_api_page_cache_misses_total",
    "row pages encoded because none was cached for the current rows",
    () => pages.misses,
  );
  reg.counter(
    "k2_api_page_cache_evicted_total",
    "encoded pages dropped to stay within the capacity",
    () => pages.evicted,
  );
  reg.counter(
    "k2_api_page_cache_refused_total",
    "encoded pages not kept because one would exceed a quarter of the capacity",
    () => pages.refused,
  );
  reg.gauge("k2_api_page_cache_bytes", "bytes held by the encoded page cache", () => pages.bytes);
  reg.counter(
    "k2_api_row_text_hits_total",
    "rows whose JSON text was reused from an earlier response",
    () => rowTexts.hits,
  );
  reg.counter(
    "k2_api_row_text_misses_total",
    "rows encoded to JSON text for the first time (or again after their slot was reused)",
    () => rowTexts.misses,
  );
  reg.counter(
    "k2_api_auth_rejected_total",
    "requests refused for a missing or unknown API key",
    () => guard.rejectedAuth,
  );
  reg.counter(
    "k2_api_rate_limited_total",
    "requests refused by the rate limiter (429)",
    () => guard.rejectedRate,
  );
  reg.counter(
    "k2_api_rate_buckets_evicted_total",
    "anonymous client buckets dropped to stay within the bound (that client starts with a full bucket)",
    () => guard.evictedAnon,
  );
  const shedCount = reg.counter(
    "k2_api_shed_total",
    "/v1 requests refused with 503 by the degradation level",
  );
  const started = new WeakMap<Request, number>();

  return new Elysia({ name: "v1" })
    .onRequest(({ request, set }) => {
      const url = new URL(request.url);
      if (!url.pathname.startsWith("/v1/")) return;
      started.set(request, performance.now());
      const origin = request.headers.get("origin");
      if (request.method === "OPTIONS") return guard.preflight(origin);
      guard.cors(origin, set.headers);
      const age = engine.freshnessMs(symbolOf(url));
      // -1 = nothing stored for this symbol yet; never mistaken for fresh data.
      set.headers["x-data-freshness-ms"] = String(age ?? -1);
      guard.check(request, set.headers, clientAddress(request));
      if (deps.load) {
        try {
          shed(deps.load, url, set.headers);
        } catch (e) {
          shedCount.inc();
          throw e;
        }
      }
      return undefined;
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const t0 = started.get(request);
      if (t0 === undefined) return;
      const s = (performance.now() - t0) / 1000;
      latency.get(route)?.observe(s);
      const status = typeof set.status === "number" ? set.status : 200;
      requestCounter(route, Math.floor(status / 100)).inc();
    })
    .group("/v1", (app) =>
      app
        .use(rowsRoutes(ctx))
        .use(ohlcvRoutes(ctx, opts.maxBodyBytes))
        .use(metaRoutes(ctx))
        .use(completenessRoutes(ctx))
        .use(bookRoutes(ctx))
        .use(replayRoutes(ctx)),
    );
}
