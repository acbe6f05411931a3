/**
 * Binance Spot REST market-data endpoints (rest-api.md, "Market Data endpoints"), answered from the
 * same generated history the sockets carry. Request weights follow the docs: ping/time 1,
 * exchangeInfo 20, historicalTrades and trades 25, aggTrades 4, klines 2, depth 5-250 by limit
 * (rest-depth.ts).
 */

import { DECIMAL_FACTOR, formatDecimal } from "../model/decimal.ts";
import type { FaultSwitches } from "./faults.ts";
import type { SymbolGenerator } from "./generator.ts";
import type { AggRecord, TradeRecord } from "./history.ts";
import { MINUTE_US } from "./klines.ts";
import { formatScaled } from "./market.ts";
import { isValidSymbol } from "./options.ts";
import { DEPTH_PATH, depthBody, depthLimit, depthWeight } from "./rest-depth.ts";
import type { WeightLimiter } from "./rest-limits.ts";
import type { RestLogEntry, RestVerdict } from "./rest-log.ts";

export interface RestContext {
  faults: FaultSwitches;
  limiter: WeightLimiter;
  weightLimit: number;
  generator(symbol: string): SymbolGenerator | undefined;
  generators(): Iterable<SymbolGenerator>;
  nowUs(): number;
  countRest(status: number): void;
  logRest(entry: RestLogEntry): void;
}

const WEIGHTS: Record<string, number> = {
  "/api/v3/ping": 1,
  "/api/v3/time": 1,
  "/api/v3/exchangeInfo": 20,
  "/api/v3/historicalTrades": 25,
  "/api/v3/trades": 25,
  "/api/v3/aggTrades": 4,
  "/api/v3/klines": 2,
};

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 500;

class ParamError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json;charset=UTF-8", ...headers },
  });
}

const TOO_MANY = (limit: number) =>
  `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`;
const BANNED = (untilMs: number) =>
  `Way too much request weight used; IP banned until ${untilMs}. Please use WebSocket Streams for live updates to avoid bans.`;

/** A request's weight; depth's depends on its limit (an invalid limit is charged as the default). */
function weightOf(url: URL): number | undefined {
  if (url.pathname === DEPTH_PATH) return depthWeight(depthLimit(url.searchParams) ?? 100);
  return WEIGHTS[url.pathname];
}

export async function handleRest(url: URL, req: Request, ip: string, ctx: RestContext): Promise<Response> {
  const weight = weightOf(url);
  if (weight === undefined) return json({ code: -1000, msg: `Unknown endpoint ${url.pathname}` }, 404);
  if (req.method !== "GET") return json({ code: -1000, msg: "Method not allowed" }, 405);
  const f = ctx.faults.rest;
  const df = ctx.faults.depth;
  const isDepth = url.pathname === DEPTH_PATH;
  // Logged at arrival: a Retry-After is judged against when the client sent, not when we answered.
  const arrivedUs = ctx.nowUs();
  if (f.delayMs > 0) await Bun.sleep(f.delayMs);
  const nowMs = Math.floor(ctx.nowUs() / 1000);
  let res: Response;
  let verdict: RestVerdict = "fault";
  if (f.status === 500) {
    res = json(
      { code: -1001, msg: "Internal error; unable to process your request. Please try again." },
      500,
    );
  } else if (f.status !== 0 || (isDepth && df.snapshotStatus !== 0)) {
    const status = f.status !== 0 ? f.status : df.snapshotStatus;
    const msg = status === 429 ? TOO_MANY(ctx.weightLimit) : BANNED(nowMs + 60_000);
    res = json({ code: -1003, msg }, status, { "Retry-After": "1" });
  } else {
    const v = ctx.limiter.charge(ip, weight, nowMs);
    const used = { "X-MBX-USED-WEIGHT-1M": String(v.used) };
    verdict = v.status === 200 ? "ok" : v.reason;
    if (v.status !== 200) {
      const msg = v.status === 429 ? TOO_MANY(ctx.weightLimit) : BANNED(v.untilMs);
      res = json({ code: -1003, msg }, v.status, { ...used, "Retry-After": String(v.retryAfterS) });
    } else if (isDepth) {
      // Slow snapshot: accepted (and charged) now, answered later with the book as it is then.
      if (df.snapshotDelayMs > 0) await Bun.sleep(df.snapshotDelayMs);
      res = depth(url.searchParams, ctx, used);
    } else {
      try {
        res = json(route(url, req, ctx, nowMs), 200, used);
      } catch (e) {
        if (!(e instanceof ParamError)) throw e;
        res = json({ code: e.code, msg: e.message }, 400, used);
      }
    }
  }
  ctx.countRest(res.status);
  ctx.logRest({
    atUs: arrivedUs,
    ip,
    path: url.pathname + url.search,
    weight,
    status: res.status,
    retryAfterS: Number(res.headers.get("Retry-After") ?? 0),
    verdict,
  });
  return res;
}

function route(url: URL, req: Request, ctx: RestContext, nowMs: number): unknown {
  const q = url.searchParams;
  const micros = (req.headers.get("X-MBX-TIME-UNIT") ?? "").toUpperCase() === "MICROSECOND";
  const t = (us: number) => (micros ? us : Math.floor(us / 1000));
  switch (url.pathname) {
    case "/api/v3/ping":
      return {};
    case "/api/v3/time":
      return { serverTime: micros ? ctx.nowUs() : nowMs };
    case "/api/v3/exchangeInfo":
      return exchangeInfo(q, ctx, t(ctx.nowUs()));
    case "/api/v3/aggTrades": {
      const gen = symbolParam(q, ctx);
      const limit = limitParam(q);
      const fromId = intParam(q, "fromId");
      const start = intParam(q, "startTime");
      const end = intParam(q, "endTime");
      const toUs = (v: number) => (micros ? v : v * 1000);
      const aggs =
        fromId === null && (start !== null || end !== null)
          ? gen.history.aggsBetween(
              toUs(start ?? 0),
              end === null ? Number.MAX_SAFE_INTEGER : toUs(end),
              limit,
            )
          : gen.history.aggsFrom(fromId, limit);
      return aggs.map((a) => aggRow(a, t));
    }
    case "/api/v3/klines":
      return klines(q, ctx, micros);
    default: {
      // historicalTrades, trades (recent trades = historicalTrades without fromId)
      const gen = symbolParam(q, ctx);
      const limit = limitParam(q);
      const fromId = url.pathname === "/api/v3/trades" ? null : intParam(q, "fromId");
      return gen.history.tradesFrom(fromId, limit).map((r) => tradeRow(r, t));
    }
  }
}

/**
 * Closed 1m klines as Binance's REST has them (rest-api.md "Kline/Candlestick data"): arrays of
 * [open time, open, high, low, close, volume, close time, quote volume, trades, taker buy base,
 * taker buy quote, "0"], times in ms (µs with X-MBX-TIME-UNIT). Only `interval=1m`: the simulator
 * builds no other. Without startTime the newest `limit` minutes up to endTime (or now).
 */
function klines(q: URLSearchParams, ctx: RestContext, micros: boolean) {
  const gen = symbolParam(q, ctx);
  if (q.get("interval") !== "1m") throw new ParamError(-1120, "Invalid interval.");
  const limit = limitParam(q);
  const toUs = (v: number) => (micros ? v : v * 1000);
  const t = (us: number) => (micros ? us : Math.floor(us / 1000));
  const start = intParam(q, "startTime");
  const end = intParam(q, "endTime");
  const endUs = end === null ? Number.MAX_SAFE_INTEGER : toUs(end);
  const startUs = start === null ? endUs - limit * MINUTE_US + 1 : toUs(start);
  const dec = (v: number | bigint) => formatDecimal(BigInt(v));
  return gen.klines
    .closedBetween(startUs, endUs, limit)
    .map((k) => [
      t(k.openUs),
      dec(k.open),
      dec(k.high),
      dec(k.low),
      dec(k.close),
      dec(k.volume),
      t(k.closeUs),
      dec(k.quoteVolume),
      k.count,
      dec(k.takerBuyVolume),
      dec(k.takerBuyQuoteVolume),
      "0",
    ]);
}

function depth(q: URLSearchParams, ctx: RestContext, headers: Record<string, string>): Response {
  try {
    const gen = symbolParam(q, ctx);
    const limit = depthLimit(q);
    if (limit === null)
      throw new ParamError(
        -1100,
        "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,16}$'.",
      );
    if (!gen.book)
      throw new ParamError(
        -1000,
        "GET /api/v3/depth needs the simulator's book mode (option books: true, --books)",
      );
    return new Response(depthBody(gen.book, limit, ctx.faults.depth.snapshotStaleEvents), {
      status: 200,
      headers: { "Content-Type": "application/json;charset=UTF-8", ...headers },
    });
  } catch (e) {
    if (!(e instanceof ParamError)) throw e;
    return json({ code: e.code, msg: e.message }, 400, headers);
  }
}

function tradeRow(r: TradeRecord, t: (us: number) => number) {
  // quoteQty = price × qty: the product of two 1e8-scaled values can pass 2^53, so BigInt here.
  const quote = (BigInt(r.priceScaled) * BigInt(r.qtyScaled)) / DECIMAL_FACTOR;
  return {
    id: r.id,
    price: formatScaled(r.priceScaled),
    qty: formatScaled(r.qtyScaled),
    quoteQty: formatDecimal(quote),
    time: t(r.timeUs),
    isBuyerMaker: r.buyerMaker,
    isBestMatch: true,
  };
}

function aggRow(a: AggRecord, t: (us: number) => number) {
  return {
    a: a.aggId,
    p: formatScaled(a.priceScaled),
    q: formatScaled(a.qtyScaled),
    f: a.firstId,
    l: a.lastId,
    T: t(a.timeUs),
    m: a.buyerMaker,
    M: true,
  };
}

function symbolParam(q: URLSearchParams, ctx: RestContext): SymbolGenerator {
  const s = q.get("symbol");
  if (s === null || s === "") {
    throw new ParamError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
  }
  if (!/^[A-Z0-9-_.]{1,20}$/.test(s)) {
    throw new ParamError(
      -1100,
      "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
    );
  }
  const gen = isValidSymbol(s) ? ctx.generator(s) : undefined;
  if (!gen) throw new ParamError(-1121, "Invalid symbol.");
  return gen;
}

function intParam(q: URLSearchParams, name: string): number | null {
  const v = q.get(name);
  if (v === null) return null;
  if (!/^[0-9]{1,16}$/.test(v)) {
    throw new ParamError(
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,16}$'.`,
    );
  }
  return Number(v);
}

/** Binance caps limit at 1000; 0 is rejected. */
function limitParam(q: URLSearchParams): number {
  const v = intParam(q, "limit");
  if (v === null) return DEFAULT_LIMIT;
  if (v < 1) throw new ParamError(-1130, "Invalid data sent for a parameter.");
  return Math.min(v, MAX_LIMIT);
}

function exchangeInfo(q: URLSearchParams, ctx: RestContext, serverTime: number): unknown {
  const one = q.get("symbol");
  const gens = one === null ? [...ctx.generators()] : [symbolParam(q, ctx)];
  return {
    timezone: "UTC",
    serverTime,
    rateLimits: [
      { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: ctx.weightLimit },
    ],
    exchangeFilters: [],
    symbols: gens.map((g) => {
      const p = g.profile;
      return {
        symbol: p.symbol,
        status: "TRADING",
        baseAsset: p.baseAsset,
        baseAssetPrecision: 8,
        quoteAsset: p.quoteAsset,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ["LIMIT", "MARKET"],
        isSpotTradingAllowed: true,
        filters: [
          {
            filterType: "PRICE_FILTER",
            minPrice: formatScaled(p.tickScaled),
            maxPrice: "1000000.00000000",
            tickSize: formatScaled(p.tickScaled),
          },
          {
            filterType: "LOT_SIZE",
            minQty: formatScaled(p.stepScaled),
            maxQty: "9000000.00000000",
            stepSize: formatScaled(p.stepScaled),
          },
        ],
        permissions: [],
        permissionSets: [["SPOT"]],
      };
    }),
  };
}
