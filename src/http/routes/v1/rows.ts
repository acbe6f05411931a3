/** /v1/trades, /v1/trades/recent, /v1/agg-trades, /v1/quotes: parse, call the engine, serialize. */
import { Elysia } from "elysia";
import type { TableName } from "../../../model/tables.ts";
import type { RowResult } from "../../../query/rows.ts";
import type { V1Context } from "./context.ts";
import { cursorInt, decodeCursor, encodeCursor } from "./cursor.ts";
import { negotiate, serialize } from "./format.ts";
import { RECENT_DOC, ROWS_DOC } from "./openapi.ts";
import {
  call,
  checkRange,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  parseQuery,
  RECENT_PARAMS,
  ROWS_PARAMS,
} from "./params.ts";

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

export function rowsRoutes(ctx: V1Context) {
  const app = new Elysia({ name: "v1-rows" });
  const paths: [string, TableName][] = [
    ["/trades", "trades"],
    ["/agg-trades", "agg_trades"],
    ["/quotes", "quotes"],
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
          return serialize(
            r.frame,
            negotiate(query.format, request.headers.get("accept")),
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
          );
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
        return serialize(
          r.frame,
          negotiate(query.format, request.headers.get("accept")),
          {
            next_cursor: next,
            meta: meta("trades", query.symbol, r, { order: "desc", minutes, start_us: fromUs }),
          },
          set.headers,
        );
      }),
    { detail: RECENT_DOC },
  );
}
