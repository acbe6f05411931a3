/**
 * The gate in front of every /v1 request, run before routing and body parsing: CORS (preflight
 * answered here), body cap, API key (constant-time), per-key token bucket. Rejections are
 * HttpErrors, so the one mapper writes them; rate-limit headers ride on every response.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "../../errors.ts";

export interface GuardOptions {
  /** Accepted API keys (K2_API_KEYS). */
  readonly apiKeys: readonly string[];
  /** Demand a key: true when K2_HOST is not loopback (see isLoopbackHost). */
  readonly requireApiKey: boolean;
  /** Sustained requests per second per key (K2_RATE_LIMIT_PER_S). */
  readonly rateLimitPerSec: number;
  /** Bucket size: requests allowed in a burst (K2_RATE_LIMIT_BURST). */
  readonly rateLimitBurst: number;
  /** Allowed browser origins; "*" allows any (K2_CORS_ORIGINS). Empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Largest request body in bytes (K2_MAX_BODY_BYTES). */
  readonly maxBodyBytes: number;
  /** /metrics asks for a key too (see metricsNeedKey). */
  readonly metricsNeedKey: boolean;
}

export const DEFAULT_GUARD_OPTIONS: GuardOptions = {
  apiKeys: [],
  requireApiKey: false,
  rateLimitPerSec: 50,
  rateLimitBurst: 100,
  corsOrigins: [],
  maxBodyBytes: 65_536,
  metricsNeedKey: false,
};

/** Keys are required whenever the API listens beyond this machine. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === "localhost" ||
    host === "::1" ||
    host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** Off loopback, /metrics is for the key holders too, unless K2_METRICS_PUBLIC=true says otherwise. */
export function metricsNeedKey(host: string, metricsPublic: boolean): boolean {
  return !isLoopbackHost(host) && !metricsPublic;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Index of the key sent in X-API-Key among `keyDigests`; 401 when none is sent or it is unknown. */
export function identify(req: Request, keyDigests: readonly Buffer[]): number {
  const key = req.headers.get("x-api-key");
  if (!key) throw new HttpError(401, "unauthorized", "missing X-API-Key header", "X-API-Key");
  const who = matchKey(key, keyDigests);
  if (who < 0) throw new HttpError(401, "unauthorized", "X-API-Key not recognised", "X-API-Key");
  return who;
}

/** The key check alone, for routes outside /v1 (/metrics off loopback). */
export function keyGate(keys: readonly string[]): (req: Request) => void {
  const digests = keys.map(digest);
  return (req) => {
    identify(req, digests);
  };
}

/** Index of the matching key, or -1. Every key is compared, each in constant time over digests. */
export function matchKey(given: string, keyDigests: readonly Buffer[]): number {
  const d = digest(given);
  let found = -1;
  keyDigests.forEach((k, i) => {
    if (timingSafeEqual(d, k) && found < 0) found = i;
  });
  return found;
}

export class TokenBucket {
  tokens: number;
  #lastMs: number;
  constructor(
    readonly burst: number,
    readonly perSec: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.#lastMs = nowMs;
  }
  /** Take one token; returns seconds to wait when none is left (0 = allowed). */
  take(nowMs: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.#lastMs) / 1000) * this.perSec);
    this.#lastMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSec));
  }
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  resetSec(): number {
    return Math.ceil((this.burst - this.tokens) / this.perSec);
  }
}

/** Anonymous buckets kept at most (one per client address); the least recently seen goes first. */
export const ANON_BUCKETS_MAX = 10_000;

const EXPOSE =
  "x-request-id, x-next-cursor, x-meta, x-data-freshness-ms, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after";

export class Guard {
  readonly #digests: Buffer[];
  /** One bucket per configured key: bounded by config. */
  readonly #buckets = new Map<number, TokenBucket>();
  /** One bucket per anonymous client address, least recently seen first: bounded by ANON_BUCKETS_MAX. */
  readonly #anon = new Map<string, TokenBucket>();
  readonly #required: boolean;
  rejectedAuth = 0;
  rejectedRate = 0;
  /** Anonymous buckets dropped to stay within ANON_BUCKETS_MAX (that client starts full again). */
  evictedAnon = 0;

  constructor(
    readonly opts: GuardOptions,
    readonly nowMs: () => number = () => Date.now(),
  ) {
    this.#digests = opts.apiKeys.map(digest);
    // Configured keys are always enforced; requireApiKey without keys locks the API (config refuses that).
    this.#required = opts.requireApiKey || opts.apiKeys.length > 0;
  }

  /** CORS headers for `origin`, or none when it is not allowed. */
  cors(origin: string | null, headers: Record<string, string | number>): void {
    if (!origin || this.opts.corsOrigins.length === 0) return;
    const any = this.opts.corsOrigins.includes("*");
    if (!any && !this.opts.corsOrigins.includes(origin)) return;
    headers["access-control-allow-origin"] = any ? "*" : origin;
    headers.vary = "Origin";
    headers["access-control-expose-headers"] = EXPOSE;
  }

  preflight(origin: string | null): Response {
    const h: Record<string, string | number> = {};
    this.cors(origin, h);
    if (h["access-control-allow-origin"]) {
      h["access-control-allow-methods"] = "GET, POST, OPTIONS";
      h["access-control-allow-headers"] = "X-API-Key, Content-Type, Accept";
      h["access-control-max-age"] = "600";
    }
    return new Response(null, { status: 204, headers: h as Record<string, string> });
  }

  /**
   * Auth, body cap and rate limit for one request; throws HttpError, fills `headers`. `address`
   * (the client's, when known) gives an anonymous caller its own bucket.
   */
  check(req: Request, headers: Record<string, string | number>, address = "unknown"): void {
    const len = Number(req.headers.get("content-length") ?? "0");
    if (len > this.opts.maxBodyBytes)
      throw new HttpError(
        413,
        "body_too_large",
        `request body of ${len} bytes exceeds the limit of ${this.opts.maxBodyBytes}`,
      );
    let who = -1;
    if (this.#required) {
      try {
        who = identify(req, this.#digests);
      } catch (e) {
        this.rejectedAuth++;
        throw e;
      }
    }
    const now = this.nowMs();
    const b = who >= 0 ? this.#keyBucket(who, now) : this.#anonBucket(address, now);
    const wait = b.take(now);
    headers["ratelimit-limit"] = String(this.opts.rateLimitBurst);
    headers["ratelimit-remaining"] = String(Math.floor(b.tokens));
    headers["ratelimit-reset"] = String(b.resetSec());
    if (wait > 0) {
      this.rejectedRate++;
      headers["retry-after"] = String(wait);
      throw new HttpError(
        429,
        "rate_limited",
        `rate limit of ${this.opts.rateLimitPerSec}/s (burst ${this.opts.rateLimitBurst}) exceeded; retry after ${wait} s`,
      );
    }
  }

  #keyBucket(who: number, now: number): TokenBucket {
    let b = this.#buckets.get(who);
    if (!b) {
      b = new TokenBucket(this.opts.rateLimitBurst, this.opts.rateLimitPerSec, now);
      this.#buckets.set(who, b);
    }
    return b;
  }

  #anonBucket(address: string, now: number): TokenBucket {
    let b = this.#anon.get(address);
    if (b)
      this.#anon.delete(address); // re-inserted below: most recently seen last
    else {
      b = new TokenBucket(this.opts.rateLimitBurst, this.opts.rateLimitPerSec, now);
      if (this.#anon.size >= ANON_BUCKETS_MAX) {
        const oldest = this.#anon.keys().next().value;
        if (oldest !== undefined) this.#anon.delete(oldest);
        this.evictedAnon++;
      }
    }
    this.#anon.set(address, b);
    return b;
  }
}
