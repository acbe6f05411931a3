/**
 * Binance REST client for gap repair: GET /api/v3/historicalTrades (weight 25) and
 * GET /api/v3/aggTrades (weight 4), ≤ 1000 rows per call, paged by fromId; for the order
 * books' snapshots, GET /api/v3/depth (weight 5 to 250 by depth, see depthWeight); for the kline
 * minutes K2 was down for, GET /api/v3/klines (weight 2).
 * It respects the IP weight budget (X-MBX-USED-WEIGHT-1M, ~6000/min), stops on 429 until
 * Retry-After has passed (ignoring 429 leads to 418 bans), and backs off on 418.
 * Requests run one at a time: repair is a background job, not a race.
 */
/** Binance counts request weight per IP per minute, in windows aligned to the clock (rest-api.md, LIMITS). */
export const WEIGHT_WINDOW_MS = 60_000;
/** Most a budget wait reaches past the next window's start (1 % of the window up to this). */
const WINDOW_GUARD_MAX_MS = 250;
/** Share of the budget K2 lets itself use, so a neighbour on the same IP does not tip it into a 429. */
const BUDGET_SHARE = 0.9;
export const WEIGHT_HISTORICAL_TRADES = 25;
export const WEIGHT_AGG_TRADES = 4;
export const WEIGHT_KLINES = 2;
export const WEIGHT_TIME = 1;
export const REST_MAX_LIMIT = 1000;
/** GET /api/v3/depth: levels per side, at most. */
export const DEPTH_MAX_LIMIT = 5000;

/** GET /api/v3/depth's weight for `limit` levels per side (rest-api.md: 5, 25, 50, 250). */
export function depthWeight(limit: number): number {
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

export interface RestTrade {
  id: number;
  price: string;
  qty: string;
  time: number;
  isBuyerMaker: boolean;
}

/**
 * GET /api/v3/klines: [open time, open, high, low, close, volume, close time, quote volume,
 * trades, taker buy base, taker buy quote, ignore]; no trade ids (the stream's `f`/`L`).
 */
export type RestKline = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

export interface RestAggTrade {
  a: number;
  p: string;
  q: string;
  f: number;
  l: number;
  T: number;
  m: boolean;
}

export type RestErrorKind =
  | "rate_limited"
  | "banned"
  | "server"
  | "client"
  | "network"
  | "timeout"
  | "bad_response";

export class RestError extends Error {
  constructor(
    readonly kind: RestErrorKind,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs = 0,
    readonly status = 0,
  ) {
    super(message);
  }
}

export interface RestOptions {
  readonly baseUrl: string;
  /** Request weight K2 may use per window (Binance: 6000 per IP per minute). */
  readonly weightBudgetPerMin?: number;
  /** The weight window; Binance's is one minute. Shorter only in tests, with a simulator to match. */
  readonly weightWindowMs?: number;
  readonly timeoutMs?: number;
  /** Wait used when a 418 carries no Retry-After. */
  readonly banBackoffMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Ask for µs times (header X-MBX-TIME-UNIT: MICROSECOND, rest-api.md "General API Information"):
   * every time in the answers, and startTime/endTime sent, are then µs. Off: ms, Binance's default.
   */
  readonly microseconds?: boolean;
}

export class BinanceRest {
  /** Weight used in the current window: K2's own count, or the server's header when higher. */
  usedWeight = 0;
  requests = 0;
  rateLimited = 0;
  bans = 0;
  #blockedUntil = 0;
  #windowStart = 0;
  #tail: Promise<unknown> = Promise.resolve();
  readonly #budget: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(readonly opts: RestOptions) {
    this.#budget = opts.weightBudgetPerMin ?? 6000;
    this.#windowMs = opts.weightWindowMs ?? WEIGHT_WINDOW_MS;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? Bun.sleep;
  }

  historicalTrades(symbol: string, fromId: number, limit = REST_MAX_LIMIT): Promise<RestTrade[]> {
    const q = `symbol=${encodeURIComponent(symbol)}&fromId=${fromId}&limit=${Math.min(limit, REST_MAX_LIMIT)}`;
    return this.#queue(`/api/v3/historicalTrades?${q}`, WEIGHT_HISTORICAL_TRADES, true) as Promise<
      RestTrade[]
    >;
  }

  aggTrades(symbol: string, fromId: number, limit = REST_MAX_LIMIT): Promise<RestAggTrade[]> {
    const q = `symbol=${encodeURIComponent(symbol)}&fromId=${fromId}&limit=${Math.min(limit, REST_MAX_LIMIT)}`;
    return this.#queue(`/api/v3/aggTrades?${q}`, WEIGHT_AGG_TRADES, true) as Promise<RestAggTrade[]>;
  }

  /**
   * Aggregate trades with T in [startTime, endTime] (both in the client's time unit; Binance
   * allows at most one hour between them), oldest first: where a day starts, by time.
   */
  aggTradesBetween(
    symbol: string,
    startTime: number,
    endTime: number,
    limit = REST_MAX_LIMIT,
  ): Promise<RestAggTrade[]> {
    const q = `symbol=${encodeURIComponent(symbol)}&startTime=${startTime}&endTime=${endTime}&limit=${Math.min(limit, REST_MAX_LIMIT)}`;
    return this.#queue(`/api/v3/aggTrades?${q}`, WEIGHT_AGG_TRADES, true) as Promise<RestAggTrade[]>;
  }

  /**
   * The first aggregate trade with T in [from, to] (the client's time unit), or undefined: asked
   * one hour at a time (the widest window Binance allows), oldest hour first, so a quiet stretch
   * costs one request per hour and a busy one a single request.
   */
  async firstAggTradeBetween(symbol: string, from: number, to: number): Promise<RestAggTrade | undefined> {
    const hour = this.opts.microseconds ? 3_600_000_000 : 3_600_000;
    for (let t = from; t <= to; t += hour) {
      const first = (await this.aggTradesBetween(symbol, t, Math.min(t + hour - 1, to), 1))[0];
      if (first) return first;
    }
    return undefined;
  }

  /** GET /api/v3/time: the exchange's clock, in the client's time unit. */
  async serverTime(): Promise<number> {
    const body = (await this.#queue("/api/v3/time", WEIGHT_TIME, false)) as string;
    let t: unknown;
    try {
      t = (JSON.parse(body) as { serverTime?: unknown }).serverTime;
    } catch {
      t = undefined;
    }
    if (typeof t !== "number" || !Number.isFinite(t))
      throw new RestError("bad_response", `/api/v3/time: no serverTime in ${body.slice(0, 100)}`, true);
    return t;
  }

  /**
   * A depth snapshot's body as text, for the allocation-free snapshot decoder. Queued behind the
   * other requests and under the same weight budget: many books resyncing at once are paced by
   * the budget, one request at a time, never sent together.
   */
  depth(symbol: string, limit: number): Promise<string> {
    const n = Math.min(Math.max(1, limit), DEPTH_MAX_LIMIT);
    const q = `symbol=${encodeURIComponent(symbol)}&limit=${n}`;
    return this.#queue(`/api/v3/depth?${q}`, depthWeight(n), false) as Promise<string>;
  }

  /** Closed 1m klines opening in [startMs, endMs], oldest first, as Binance's arrays (RestKline). */
  klines1m(symbol: string, startMs: number, endMs: number, limit = REST_MAX_LIMIT): Promise<RestKline[]> {
    const q = `symbol=${encodeURIComponent(symbol)}&interval=1m&startTime=${startMs}&endTime=${endMs}&limit=${Math.min(limit, REST_MAX_LIMIT)}`;
    return this.#queue(`/api/v3/klines?${q}`, WEIGHT_KLINES, true) as Promise<RestKline[]>;
  }

  /** Milliseconds until a request may be sent (a 429/418 wait still running). */
  blockedForMs(): number {
    return Math.max(0, this.#blockedUntil - this.#now());
  }

  /** Start a new window (usage back to 0) when the clock has passed the current one. */
  #rollWindow(): void {
    const now = this.#now();
    const start = now - (now % this.#windowMs);
    if (start > this.#windowStart) {
      this.#windowStart = start;
      this.usedWeight = 0;
    }
  }

  /** `array`: the body must be a JSON array, returned parsed; otherwise the text is returned. */
  #queue(path: string, weight: number, array: boolean): Promise<unknown> {
    const run = this.#tail.then(
      () => this.#request(path, weight, array),
      () => this.#request(path, weight, array),
    );
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #request(path: string, weight: number, array: boolean): Promise<unknown> {
    const blocked = this.blockedForMs();
    if (blocked > 0) await this.#sleep(blocked);
    this.#rollWindow();
    // Near the budget: wait for the next window rather than earn a 429 — and a little past its
    // start, since the server's clock is not ours: a request sent at our window's first
    // millisecond was seen counted in the server's previous one (a 429 by 0.3 ms).
    if (this.usedWeight + weight > this.#budget * BUDGET_SHARE) {
      const guardMs = Math.min(WINDOW_GUARD_MAX_MS, this.#windowMs / 100);
      await this.#sleep(this.#windowStart + this.#windowMs + guardMs - this.#now());
      this.#rollWindow();
    }
    // Counted before sending: a server that reports no X-MBX-USED-WEIGHT-1M still gets a budget.
    this.usedWeight += weight;
    this.requests++;
    let res: Response;
    try {
      res = await fetch(`${this.opts.baseUrl}${path}`, {
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        headers: this.opts.microseconds
          ? { accept: "application/json", "X-MBX-TIME-UNIT": "MICROSECOND" }
          : { accept: "application/json" },
      });
    } catch (e) {
      const timeout = (e as Error).name === "TimeoutError";
      throw new RestError(timeout ? "timeout" : "network", `${path}: ${(e as Error).message}`, true);
    }
    const used = Number(res.headers.get("x-mbx-used-weight-1m"));
    // The server also counts other clients on this IP: its figure wins when it is higher.
    if (Number.isFinite(used) && used > this.usedWeight) this.usedWeight = used;
    const retryAfterMs = Number(res.headers.get("retry-after") ?? "0") * 1000 || 0;
    if (res.status === 429) {
      this.rateLimited++;
      const wait = retryAfterMs || 1000;
      this.#blockedUntil = this.#now() + wait;
      throw new RestError("rate_limited", `${path}: 429, retry after ${wait} ms`, true, wait, 429);
    }
    if (res.status === 418) {
      this.bans++;
      const wait = retryAfterMs || (this.opts.banBackoffMs ?? 120_000);
      this.#blockedUntil = this.#now() + wait;
      throw new RestError("banned", `${path}: 418 IP banned for ${wait} ms`, true, wait, 418);
    }
    if (res.status >= 500) throw new RestError("server", `${path}: HTTP ${res.status}`, true, 0, res.status);
    if (!res.ok) {
      const body = await res.text().catch(() => "");
      throw new RestError(
        "client",
        `${path}: HTTP ${res.status} ${body.slice(0, 200)}`,
        false,
        0,
        res.status,
      );
    }
    try {
      if (!array) return await res.text();
      const json = (await res.json()) as unknown;
      if (!Array.isArray(json)) throw new Error("not an array");
      return json;
    } catch (e) {
      throw new RestError("bad_response", `${path}: ${(e as Error).message}`, true, 0, res.status);
    }
  }
}
