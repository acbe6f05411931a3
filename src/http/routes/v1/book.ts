/** /v1/book: the live order book, or the book at an instant (src/book/api.ts), as JSON. */
import { Elysia } from "elysia";
import type { BookApi } from "../../../book/api.ts";
import { MAX_SERIES_SNAPSHOTS } from "../../../book/at.ts";
import { seriesFrame } from "../../../book/series-frame.ts";
import { QueryError } from "../../../query/types.ts";
import { HttpError } from "../../errors.ts";
import { endOnStop, streamsStopping } from "../../stream-ends.ts";
import type { V1Context } from "./context.ts";
import { negotiate, serialize } from "./format.ts";
import { BOOK_DOC, BOOK_SERIES_DOC, BOOK_STREAM_DOC } from "./openapi.ts";
import {
  BOOK_PARAMS,
  BOOK_SERIES_PARAMS,
  BOOK_STREAM_PARAMS,
  call,
  checkRange,
  parseQuery,
} from "./params.ts";

/** Levels (per side) one series answer may hold in all: some tens of MB of JSON at most. */
const MAX_SERIES_LEVELS = 1_000_000;

export const bookRoutes = (ctx: V1Context) => {
  const books = ctx.books;
  const app = new Elysia({ name: "v1-book" });
  if (!books) return app; // no order books in this process (K2_STREAMS without depth, or no ingest)
  return app
    .get(
      "/book/stream",
      ({ request }) =>
        call(async () => {
          const q = parseQuery(request, BOOK_STREAM_PARAMS, "/v1/book/stream");
          ctx.engine.checkSymbol(q.symbol);
          const levels = q.levels ?? 20;
          if (streamsStopping())
            throw new HttpError(503, "stopping", "K2 is stopping; reconnect in a moment");
          // 404/400 before the 200 of a stream is committed.
          if (!(await books.answer(q.symbol, undefined, levels)))
            throw new QueryError("bad_request", `no order book is kept for ${q.symbol}`, "symbol");
          return sse(bookEvents(books, q.symbol, levels, q.interval ?? 1000, (q.max_seconds ?? 3600) * 1000));
        }),
      { detail: BOOK_STREAM_DOC },
    )
    .get(
      "/book/snapshots",
      ({ request, set }) =>
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
          const fmt = negotiate(q.format, request.headers.get("accept"));
          if (fmt === "json") return Response.json(a);
          const { snapshots: _, ...meta } = a;
          return serialize(seriesFrame(a), fmt, { next_cursor: null, meta }, set.headers);
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

/** Without a change for this long, a comment keeps proxies from closing the stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * The live book as SSE text chunks: one `book` event per change of update id or sync state, at
 * most one per `intervalMs`; ends after `maxMs`. Pulled: nothing is read while the client is slow.
 */
async function* bookEvents(
  books: BookApi,
  symbol: string,
  levels: number,
  intervalMs: number,
  maxMs: number,
) {
  const until = performance.now() + maxMs;
  let last = "";
  let sentAt = 0;
  while (performance.now() < until) {
    const wait = sentAt + intervalMs - performance.now();
    if (wait > 0) await Bun.sleep(Math.min(wait, until - performance.now()));
    const a = await books.answer(symbol, undefined, levels);
    if (!a) break;
    const key = `${a.state}:${a.update_id}`;
    if (key !== last) {
      last = key;
      sentAt = performance.now();
      yield `event: book\ndata: ${JSON.stringify(a)}\n\n`;
    } else if (performance.now() - sentAt >= KEEP_ALIVE_MS) {
      sentAt = performance.now();
      yield ": keep-alive\n\n";
    } else await Bun.sleep(Math.min(intervalMs, Math.max(0, until - performance.now())));
  }
  yield "event: end\ndata: {}\n\n";
}

/**
 * A pull stream of text chunks as a text/event-stream response; a cancel ends the generator.
 * K2's drain ends it at once with `event: end` (stream-ends.ts): a graceful stop waits for
 * every open response, and this one may stay open for an hour.
 */
function sse(chunks: AsyncGenerator<string>): Response {
  const enc = new TextEncoder();
  let closed = false;
  let unregister = () => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        unregister = endOnStop(() => {
          if (closed) return;
          closed = true;
          controller.enqueue(enc.encode("event: end\ndata: {}\n\n"));
          controller.close();
          void chunks.return(undefined);
        });
      },
      async pull(controller) {
        const { value, done } = await chunks.next();
        if (closed) return; // ended by the drain while the generator waited
        if (done) {
          closed = true;
          unregister();
          controller.close();
        } else controller.enqueue(enc.encode(value));
      },
      async cancel() {
        closed = true;
        unregister();
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}
