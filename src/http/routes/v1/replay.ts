/**
 * /v1/replay: rows in time order as NDJSON (or SSE with format=sse). The body is a pull stream
 * with a high-water mark of one chunk: the next page is read from storage only when the client
 * has taken the previous one, so a slow reader holds at most one page in memory.
 */
import { Elysia } from "elysia";
import { replay } from "../../../query/replay.ts";
import type { V1Context } from "./context.ts";
import { ndjsonLines, rowObjects } from "./format.ts";
import { REPLAY_DOC } from "./openapi.ts";
import { call, checkRange, parseQuery, REPLAY_PARAMS, toHttp } from "./params.ts";

export function replayRoutes(ctx: V1Context) {
  return new Elysia({ name: "v1-replay" }).get(
    "/replay",
    ({ request }) =>
      call(async () => {
        const query = parseQuery(request, REPLAY_PARAMS, "/v1/replay");
        const { start: fromUs, end: toUs } = query;
        checkRange(fromUs, toUs);
        ctx.engine.checkSymbol(query.symbol); // 404 before the 200 of a stream is committed
        const sse = query.format === "sse";
        const rows = replay(ctx.engine, {
          table: query.table,
          symbol: query.symbol,
          fromUs,
          toUs,
          speed: query.speed ?? 0,
          pageRows: ctx.replayPageRows,
        });
        const enc = new TextEncoder();
        const stream = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              try {
                const { value, done } = await rows.next();
                if (done) {
                  if (sse) controller.enqueue(enc.encode("event: end\ndata: {}\n\n"));
                  controller.close();
                  return;
                }
                const text = sse
                  ? rowObjects(value)
                      .map((o) => `data: ${JSON.stringify(o)}\n\n`)
                      .join("")
                  : ndjsonLines(value);
                controller.enqueue(enc.encode(text));
              } catch (e) {
                // Headers are gone already: end the stream with an error record the client can see.
                const h = toHttp(e) as { code?: string; message?: string };
                const err = JSON.stringify({
                  error: { code: h.code ?? "internal", message: h.code ? h.message : "replay failed" },
                });
                controller.enqueue(enc.encode(sse ? `event: error\ndata: ${err}\n\n` : `${err}\n`));
                controller.close();
              }
            },
            async cancel() {
              await rows.return(undefined);
            },
          },
          { highWaterMark: 1 },
        );
        return new Response(stream, {
          headers: {
            "content-type": sse ? "text/event-stream" : "application/x-ndjson",
            "cache-control": "no-store",
          },
        });
      }),
    { detail: REPLAY_DOC },
  );
}
