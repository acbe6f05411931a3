/**
 * GET /page/live?symbol=BTCUSDT&interval=1m: the live page's Server-Sent Events stream. /v1/replay
 * ends at the newest stored row; this stream follows new rows until the page closes it. Each tick
 * it sends the trades stored since the last tick (`trades`) and the candles still forming
 * (`candles`, the same rows as /v1/ohlcv); every second a `status` record, which also says whether
 * K2 keeps an order book for the symbol (`book`: the page then reads /v1/book/stream). The body is pulled:
 * a reader that stops reading stops the ticks, so a stalled tab holds one chunk, not a backlog.
 * A stream ends with an `end` event naming the last trade id sent, and the page reconnects at
 * once with `after`, so nothing is sent twice or skipped: after STREAM_MAX_MS, or at once when K2
 * stops (endLiveStreams), since Bun's graceful stop waits for every open response.
 */
import { Elysia } from "elysia";
import type { BookApi } from "../../book/api.ts";
import type { QueryEngine } from "../../query/engine.ts";
import { INTERVAL_US } from "../../query/ohlcv.ts";
import { HttpError } from "../errors.ts";
import { rowObjects } from "../routes/v1/format.ts";
import type { Guard } from "../routes/v1/guard.ts";
import { call } from "../routes/v1/params.ts";
import type { LoadView } from "../routes/v1/shed.ts";
import { acceptStreams, endOnStop, endStreams, streamsStopping } from "../stream-ends.ts";
import type { StatusProbe } from "./status.ts";

/** Trades are looked for this often: the tape shows a stored trade well inside 2 s. */
export const TICK_MS = 250;
const STATUS_EVERY_TICKS = 4;
/** The tape shows at most this many trades per tick (the newest). */
export const TAPE_ROWS = 50;
/** Candles sent per tick at most (a tick normally touches one or two). */
const MAX_CANDLES = 300;
/** Intervals the page's chart offers (a subset of the API's). */
export const PAGE_INTERVALS = ["1s", "1m", "5m"] as const;
type PageInterval = (typeof PAGE_INTERVALS)[number];
/**
 * A stream is renewed this often (the page reconnects with `after`), so a page left open for days
 * re-checks its key. Shutdown does not wait for it: endLiveStreams ends every stream at once.
 */
export const STREAM_MAX_MS = 300_000;
/** Open page streams are bounded: each one costs a query per tick. */
export const MAX_STREAMS = 32;

export interface LiveDeps {
  readonly engine: QueryEngine;
  readonly guard: Guard;
  readonly status: StatusProbe;
  /** Under CIRCUIT_BREAK the stream sends status only, as /v1 refuses queries then. */
  readonly load?: LoadView;
  /** Order books; the status record's `book` says whether the symbol has one. */
  readonly books?: BookApi;
}

function parse(query: Record<string, string | undefined>): {
  symbol: string;
  interval: PageInterval;
  after: number;
} {
  const symbol = (query.symbol ?? "").toUpperCase();
  if (!/^[A-Z0-9]{2,20}$/.test(symbol))
    throw new HttpError(400, "invalid_parameter", "symbol: expected a symbol such as BTCUSDT", "symbol");
  const interval = (query.interval ?? "1m") as PageInterval;
  if (!PAGE_INTERVALS.includes(interval))
    throw new HttpError(
      400,
      "invalid_parameter",
      `interval: expected one of ${PAGE_INTERVALS.join(", ")}`,
      "interval",
    );
  const after = query.after === undefined ? -1 : Number(query.after);
  if (!/^\d{1,19}$/.test(query.after ?? "0") || !Number.isSafeInteger(after))
    throw new HttpError(400, "invalid_parameter", "after: expected a trade id (a whole number)", "after");
  return { symbol, interval, after };
}

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * K2 is stopping (SIGTERM, a hand-over's end): end every open event stream now (the page's and
 * /v1/book/stream's, stream-ends.ts), each with its `end` event, and refuse new ones (503), so
 * the server's graceful stop waits for no page. Returns how many were ended.
 */
export const endLiveStreams = endStreams;

/** For in-process tests that go on serving after endLiveStreams. */
export const acceptLiveStreams = acceptStreams;

export function liveRoutes(deps: LiveDeps) {
  const { engine, status } = deps;
  return new Elysia({ name: "page-live" }).get(
    "/page/live",
    ({ query, request, set }) =>
      call(async () => {
        deps.guard.check(request, set.headers);
        const { symbol, interval, after } = parse(query);
        engine.checkSymbol(symbol); // 404 before the 200 of the stream is committed
        if (streamsStopping())
          throw new HttpError(503, "stopping", "K2 is stopping; the page reconnects by itself");
        if (status.streams >= MAX_STREAMS)
          throw new HttpError(503, "too_many_streams", `${MAX_STREAMS} live pages are open already`);
        // Asked once per stream: which symbols have a book is fixed for a process's life. The page
        // learns it here, not from a refused /v1/book/stream (a 4xx is a console error).
        const book = deps.books ? (await deps.books.answer(symbol, undefined, 1)) !== undefined : false;
        status.streams++;
        const ivUs = INTERVAL_US[interval];
        let lastId = after;
        let lastTimeUs = Number.POSITIVE_INFINITY;
        let ticks = 0;
        const openedMs = performance.now();
        let closed = false;
        let end = () => {};
        let unregister = () => {};
        const close = () => {
          if (!closed) status.streams--;
          closed = true;
          unregister();
        };
        const enc = new TextEncoder();
        const tick = async (): Promise<string> => {
          let out = "";
          if (ticks++ % STATUS_EVERY_TICKS === 0) out += event("status", { ...status.sample(symbol), book });
          if (deps.load && !deps.load.allowQuery("cheap")) return out;
          const recent = await engine.rows({ table: "trades", symbol, order: "desc", limit: TAPE_ROWS });
          const fresh = rowObjects(recent.frame).filter((t) => (t.trade_id as number) > lastId);
          if (fresh.length > 0) {
            // Every candle the new trades touched, from the bucket of the oldest one (or of the
            // newest trade sent before, whichever is older): a late tick still sends them all.
            const oldestUs = Math.min(fresh.at(-1)!.trade_time_us as number, lastTimeUs);
            lastId = fresh[0]!.trade_id as number;
            lastTimeUs = fresh[0]!.trade_time_us as number;
            out += event("trades", fresh);
            const fromUs = Math.floor(oldestUs / ivUs) * ivUs;
            const c = await engine.ohlcv({ symbol, interval, fromUs, limit: MAX_CANDLES, fill: "none" });
            out += event("candles", rowObjects(c.frame));
          }
          return out;
        };
        const stream = new ReadableStream<Uint8Array>(
          {
            start(controller) {
              end = () => {
                if (closed) return;
                controller.enqueue(enc.encode(event("end", { after: lastId })));
                close();
                controller.close();
              };
              unregister = endOnStop(end);
            },
            async pull(controller) {
              if (ticks > 0) await Bun.sleep(TICK_MS);
              if (closed) return;
              if (performance.now() - openedMs > STREAM_MAX_MS) return end();
              try {
                const text = await tick();
                if (closed) return; // ended while the tick ran
                // A comment line keeps proxies from closing an idle stream.
                controller.enqueue(enc.encode(text || ": idle\n\n"));
              } catch (e) {
                if (closed) return;
                const message = e instanceof Error ? e.message : "live stream failed";
                controller.enqueue(enc.encode(event("error", { message })));
                close();
                controller.close();
              }
            },
            cancel: close,
          },
          { highWaterMark: 1 },
        );
        return new Response(stream, {
          headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
        });
      }),
    { detail: { hide: true } },
  );
}
