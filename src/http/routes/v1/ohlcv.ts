/** /v1/ohlcv and POST /v1/ohlcv/batch: parse, call the engine, serialize. */
import { Elysia } from "elysia";
import { INTERVAL_US, type OhlcvResult } from "../../../query/ohlcv.ts";
import { HttpError } from "../../errors.ts";
import type { V1Context } from "./context.ts";
import { cursorBigInt, cursorInt, decodeCursor, encodeCursor } from "./cursor.ts";
import { negotiate, rowObjects, serialize } from "./format.ts";
import { BATCH_DOC, OHLCV_DOC } from "./openapi.ts";
import {
  call,
  checkRange,
  DEFAULT_CANDLES,
  type OHLCV_ITEM_PARAMS,
  OHLCV_PARAMS,
  parseBatch,
  parseQuery,
  type Values,
} from "./params.ts";
import { invalid } from "./values.ts";

type OneQuery = Values<typeof OHLCV_ITEM_PARAMS>;

async function one(
  ctx: V1Context,
  q: OneQuery,
  prefix = "",
): Promise<{ r: OhlcvResult; next: string | null; meta: Record<string, unknown> }> {
  const { start, end: toUs } = q;
  checkRange(start, toUs, prefix);
  const fill = q.fill ?? "none";
  if (q.order === "desc") return newestFirst(ctx, q, prefix);
  const c = decodeCursor(q.cursor, ["ohlcv", q.symbol, q.interval, fill], 2);
  const fromUs = c ? cursorInt(c[0]) : start;
  const prevClose = cursorBigInt(c?.[1]);
  const limit = q.limit ?? DEFAULT_CANDLES;
  const r = await ctx.engine.ohlcv({
    symbol: q.symbol,
    interval: q.interval,
    fromUs,
    toUs,
    limit,
    fill,
    prevClose,
  });
  const next = r.next
    ? encodeCursor(["ohlcv", q.symbol, q.interval, fill, r.next.bucketUs, String(r.next.prevClose)])
    : null;
  const meta = {
    symbol: q.symbol,
    interval: q.interval,
    fill,
    count: r.frame.length,
    start_us: fromUs ?? null,
    end_us: toUs ?? null,
    order: "asc",
    incomplete: r.incomplete,
    rounding: ROUNDING,
  };
  return { r, next, meta };
}

const ROUNDING = "quote_volume and vwap: exact sums, rounded half-up to 8 decimals";

/**
 * order=desc: each page is the `limit` buckets that end where the previous page began (at `end`,
 * or now, for the first), read in ascending order and reversed. Paging stops at `start`, or at
 * the bucket of the symbol's first stored trade. The cursor holds the next page's end.
 */
async function newestFirst(
  ctx: V1Context,
  q: OneQuery,
  prefix: string,
): Promise<{ r: OhlcvResult; next: string | null; meta: Record<string, unknown> }> {
  if (q.fill === "previous")
    throw invalid(
      `${prefix}order`,
      "desc cannot be combined with fill=previous (the close before a page is not known yet); use order=asc",
    );
  const iv = INTERVAL_US[q.interval];
  const fill = "none";
  const c = decodeCursor(q.cursor, ["ohlcv-desc", q.symbol, q.interval], 1);
  const end = c ? cursorInt(c[0]) : (q.end ?? Math.floor(ctx.engine.nowUs() / iv) * iv + iv);
  const first = ctx.engine.coverage().find((x) => x.table === "trades" && x.symbol === q.symbol)?.firstUs;
  const lower = q.start ?? (first === undefined ? end : Math.floor(first / iv) * iv);
  const limit = q.limit ?? DEFAULT_CANDLES;
  const from = Math.max(lower, Math.ceil(end / iv) * iv - limit * iv);
  const asc = await ctx.engine.ohlcv({
    symbol: q.symbol,
    interval: q.interval,
    fromUs: from,
    toUs: end,
    limit,
    fill,
  });
  const frame = { ...asc.frame, data: asc.frame.data.map((col) => [...col].reverse()) };
  const next = from > lower ? encodeCursor(["ohlcv-desc", q.symbol, q.interval, from]) : null;
  const meta = {
    symbol: q.symbol,
    interval: q.interval,
    fill,
    count: frame.length,
    start_us: q.start ?? null,
    end_us: end,
    order: "desc",
    incomplete: asc.incomplete,
    rounding: ROUNDING,
  };
  return { r: { ...asc, frame, next: null }, next, meta };
}

/** Batch bodies are read with a byte cap even when no Content-Length was sent (chunked). */
async function readCapped(request: Request, cap: number): Promise<unknown> {
  const reader = request.body?.getReader();
  if (!reader) throw new HttpError(400, "invalid_body", "request body required", "queries");
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > cap) {
      await reader.cancel();
      throw new HttpError(413, "body_too_large", `request body exceeds the limit of ${cap} bytes`);
    }
    parts.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    throw new HttpError(400, "invalid_body", "request body is not valid JSON", "queries");
  }
}

export function ohlcvRoutes(ctx: V1Context, maxBodyBytes: number) {
  return new Elysia({ name: "v1-ohlcv" })
    .get(
      "/ohlcv",
      ({ request, set }) =>
        call(async () => {
          const query = parseQuery(request, OHLCV_PARAMS, "/v1/ohlcv");
          const { r, next, meta } = await one(ctx, query);
          return serialize(
            r.frame,
            negotiate(query.format, request.headers.get("accept")),
            {
              next_cursor: next,
              meta,
            },
            set.headers,
          );
        }),
      { detail: OHLCV_DOC },
    )
    .post(
      "/ohlcv/batch",
      ({ body }) =>
        call(async () => {
          // Sequential on purpose: the engine's connection pool is the concurrency limit.
          const results = [];
          const queries = parseBatch(body);
          for (const [i, q] of queries.entries()) {
            const { r, next, meta } = await one(ctx, q, `queries.${i}.`);
            results.push({ data: rowObjects(r.frame), next_cursor: next, meta });
          }
          return { data: results, next_cursor: null, meta: { count: results.length } };
        }),
      {
        parse: ({ request }) => readCapped(request, maxBodyBytes),
        detail: BATCH_DOC,
      },
    );
}
