/** /v1/book: the live order book, or the book at an instant (src/book/api.ts), as JSON. */
import { Elysia } from "elysia";
import { MAX_SERIES_SNAPSHOTS } from "../../../book/at.ts";
import { QueryError } from "../../../query/types.ts";
import type { V1Context } from "./context.ts";
import { BOOK_DOC, BOOK_SERIES_DOC } from "./openapi.ts";
import { BOOK_PARAMS, BOOK_SERIES_PARAMS, call, checkRange, parseQuery } from "./params.ts";

/** Levels (per side) one series answer may hold in all: some tens of MB of JSON at most. */
const MAX_SERIES_LEVELS = 1_000_000;

export const bookRoutes = (ctx: V1Context) => {
  const books = ctx.books;
  const app = new Elysia({ name: "v1-book" });
  if (!books) return app; // no order books in this process (K2_STREAMS without depth, or no ingest)
  return app
    .get(
      "/book/snapshots",
      ({ request }) =>
        call(async () => {
          const q = parseQuery(request, BOOK_SERIES_PARAMS, "/v1/book/snapshots");
          ctx.engine.checkSymbol(q.symbol);
          checkRange(q.start, q.end);
          const levels = q.levels ?? 20;
          const interval = q.interval ?? 1000;
          const count = Math.floor((q.end - q.start) / (interval * 1000)) + 1;
          if (count > MAX_SERIES_SNAPSHOTS || count * levels > MAX_SERIES_LEVELS)
            throw new QueryError(
              "range_too_large",
              `${count} snapshots of ${levels} levels is more than ${MAX_SERIES_SNAPSHOTS} snapshots or ${MAX_SERIES_LEVELS} levels a side in all: shorten the range, widen the interval or ask fewer levels`,
              "end",
            );
          const a = await books.series(q.symbol, q.start, q.end, interval, levels);
          if (!a) throw new QueryError("bad_request", `no order book is kept for ${q.symbol}`, "symbol");
          return Response.json(a);
        }),
      { detail: BOOK_SERIES_DOC },
    )
    .get(
      "/book",
      ({ request }) =>
        call(async () => {
          const q = parseQuery(request, BOOK_PARAMS, "/v1/book");
          ctx.engine.checkSymbol(q.symbol);
          const a = await books.answer(q.symbol, q.at, q.levels ?? 20);
          if (!a) throw new QueryError("bad_request", `no order book is kept for ${q.symbol}`, "symbol");
          return Response.json(a);
        }),
      { detail: BOOK_DOC },
    );
};
