/** /v1/book: the live order book, or the book at an instant (src/book/api.ts), as JSON. */
import { Elysia } from "elysia";
import { QueryError } from "../../../query/types.ts";
import type { V1Context } from "./context.ts";
import { BOOK_DOC } from "./openapi.ts";
import { BOOK_PARAMS, call, parseQuery } from "./params.ts";

export const bookRoutes = (ctx: V1Context) => {
  const books = ctx.books;
  const app = new Elysia({ name: "v1-book" });
  if (!books) return app; // no order books in this process (K2_STREAMS without depth, or no ingest)
  return app.get(
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
