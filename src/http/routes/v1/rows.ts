/**
 * /v1/trades, /v1/trades/recent, /v1/agg-trades, /v1/quotes, /v1/book/deltas: parse, call the
 * engine, serialize.
 */
import { Elysia } from "elysia";
import { TABLE_COLUMNS, TABLE_ID_COLUMN, TABLE_NAMES, type TableName } from "../../../model/tables.ts";
import type { RowResult } from "../../../query/rows.ts";
import type { V1Context } from "./context.ts";
import { cursorInt, decodeCursor, encodeCursor } from "./cursor.ts";
import { acceptsGzip, GZIP_MIN_BYTES, gzip, varyOnEncoding } from "./encoding.ts";
import { CONTENT_TYPES, type Format, negotiate, type RowIdentity, serialize } from "./format.ts";
import { RECENT_DOC, ROWS_DOC } from "./openapi.ts";
import type { CachedPage } from "./page-cache.ts";
import {
  call,
  checkRange,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  parseQuery,
  RECENT_PARAMS,
  ROWS_PARAMS,
} from "./params.ts";
import { tagHash } from "./row-text.ts";

function meta(table: TableName, symbol: string, r: RowResult, extra: Record<string, unknown>) {
  return {
    table,
    symbol,
    count: r.frame.length,
    hot_rows: r.hotRows,
    cold_rows: r.coldRows,
    incomplete: r.incomplete,
    ...extra,
  };
}

/** A page is the same page for the same table, format and query string (as sent: no reordering). */
function pageKey(table: TableName, fmt: Format, url: string): string {
  const q = url.indexOf("?");
  return `${table}|${fmt}|${q < 0 ? "" : url.slice(q)}`;
}

/**
 * One table and symbol's rows: the row-text cache's tag and the page cache's scope (a page of
 * those rows dies when their stamp moves on).
 */
function rowsScope(table: TableName, symbol: string): string {
  return `${table}|${symbol}`;
}

/** Rows of `table` and `symbol` in a frame with the table's stored columns, for row-text.ts. */
function identity(ctx: V1Context, table: TableName, symbol: string): RowIdentity {
  const tag = rowsScope(table, symbol);
  return { cache: ctx.rowTexts, tag, tagHash: tagHash(tag), idColumn: ID_COLUMN_INDEX[table] };
}

const ID_COLUMN_INDEX = Object.fromEntries(
  TABLE_NAMES.map((t) => [t, TABLE_COLUMNS[t].findIndex((c) => c.name === TABLE_ID_COLUMN[t])]),
) as Record<TableName, number>;

/** The headers serialize() would write, and the cached bytes (gzipped when asked, see send). */
function sendPage(
  ctx: V1Context,
  key: string,
  p: CachedPage,
  headers: Record<string, string | number>,
  gz: boolean,
): Uint8Array {
  headers["content-type"] = p.contentType;
  headers["x-meta"] = p.meta;
  if (p.nextCursor !== null) headers["x-next-cursor"] = p.nextCursor;
  varyOnEncoding(headers);
  if (!gz || p.body.length < GZIP_MIN_BYTES) return p.body;
  headers["content-encoding"] = "gzip";
  return ctx.pages.gzipped(key, p);
}

/** An uncached body, gzipped when the client asked and it is large enough. */
function send(
  body: string | Uint8Array,
  headers: Record<string, string | number>,
  gz: boolean,
): string | Uint8Array {
  varyOnEncoding(headers);
  if (!gz) return body;
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  if (bytes.length < GZIP_MIN_BYTES) return body;
  headers["content-encoding"] = "gzip";
  return gzip(bytes);
}

export function rowsRoutes(ctx: V1Context) {
  const app = new Elysia({ name: "v1-rows" });
  const paths: [string, TableName][] = [
    ["/trades", "trades"],
    ["/agg-trades", "agg_trades"],
    ["/quotes", "quotes"],
    // Order-book deltas: read from files only (no hot window, see query/hot.ts).
    ["/book/deltas", "book_deltas"],
  ];
  for (const [path, table] of paths) {
    app.get(
      path,
      ({ request, set }) =>
        call(async () => {
          const query = parseQuery(request, ROWS_PARAMS, `/v1${path}`);
          const { start: fromUs, end: toUs } = query;
          checkRange(fromUs, toUs);
          const order = query.order ?? "asc";
          const c = decodeCursor(query.cursor, [table, query.symbol, order]);
          const limit = query.limit ?? DEFAULT_LIMIT;
          const fmt = negotiate(query.format, request.headers.get("accept"));
          const key = pageKey(table, fmt, request.url);
          const gz = acceptsGzip(request.headers.get("accept-encoding"));
          const hit = ctx.pages.get(key, ctx.engine.rowStamp(table, query.symbol));
          if (hit) return sendPage(ctx, key, hit, set.headers, gz);
          const r = await ctx.engine.rows({
            table,
            symbol: query.symbol,
            fromUs,
            toUs,
            limit,
            order,
            cursorId: c ? cursorInt(c[0]) : undefined,
          });
          const next =
            r.nextCursorId === null ? null : encodeCursor([table, query.symbol, order, r.nextCursorId]);
          const body = serialize(
            r.frame,
            fmt,
            {
              next_cursor: next,
              meta: meta(table, query.symbol, r, {
                order,
                limit,
                start_us: fromUs ?? null,
                end_us: toUs ?? null,
              }),
            },
            set.headers,
            identity(ctx, table, query.symbol),
          );
          if (r.stamp === undefined) return send(body, set.headers, gz);
          const page: CachedPage = {
            stamp: r.stamp,
            body: typeof body === "string" ? Buffer.from(body) : body,
            contentType: CONTENT_TYPES[fmt],
            meta: set.headers["x-meta"] as string,
            nextCursor: next,
          };
          ctx.pages.set(key, page, rowsScope(table, query.symbol), ctx.engine.rowStamp(table, query.symbol));
          return sendPage(ctx, key, page, set.headers, gz);
        }),
      { detail: ROWS_DOC(table) },
    );
  }
  return app.get(
    "/trades/recent",
    ({ request, set }) =>
      call(async () => {
        const query = parseQuery(request, RECENT_PARAMS, "/v1/trades/recent");
        const minutes = query.minutes ?? 5;
        // The window start is fixed by the first page and carried in the cursor, so paging is stable.
        const c = decodeCursor(query.cursor, ["recent", query.symbol], 2);
        const fromUs = c ? cursorInt(c[0]) : ctx.engine.nowUs() - minutes * 60_000_000;
        const r = await ctx.engine.rows({
          table: "trades",
          symbol: query.symbol,
          fromUs,
          limit: query.limit ?? MAX_LIMIT,
          order: "desc",
          cursorId: c ? cursorInt(c[1]) : undefined,
        });
        const next =
          r.nextCursorId === null ? null : encodeCursor(["recent", query.symbol, fromUs, r.nextCursorId]);
        const body = serialize(
          r.frame,
          negotiate(query.format, request.headers.get("accept")),
          {
            next_cursor: next,
            meta: meta("trades", query.symbol, r, { order: "desc", minutes, start_us: fromUs }),
          },
          set.headers,
          identity(ctx, "trades", query.symbol),
        );
        return send(body, set.headers, acceptsGzip(request.headers.get("accept-encoding")));
      }),
    { detail: RECENT_DOC },
  );
}
