/**
 * Request-weight accounting per IP (rest-api.md, "LIMITS"): every endpoint has a weight, the
 * running total for the current window is returned in X-MBX-USED-WEIGHT-1M, going over the budget
 * answers 429 with Retry-After, and an IP that keeps calling while backed off gets banned (418).
 * Windows are aligned to the clock like Binance's per-minute counters.
 */

export interface WeightLimits {
  limit: number;
  windowMs: number;
  strikesBeforeBan: number;
  banMs: number;
}

export type WeightVerdict =
  | { status: 200; used: number }
  | {
      status: 429 | 418;
      used: number;
      retryAfterS: number;
      untilMs: number;
      /** over_budget: this request; in_backoff: sent during a Retry-After; banned: during a ban. */
      reason: "over_budget" | "in_backoff" | "banned";
    };

interface IpState {
  windowStartMs: number;
  used: number;
  /** End of the current 429 back-off, 0 if none. */
  backoffUntilMs: number;
  strikes: number;
  bannedUntilMs: number;
}

/** Bounded: at most this many IPs tracked (loopback in practice); the oldest is forgotten. */
const MAX_IPS = 10_000;

export class WeightLimiter {
  private readonly ips = new Map<string, IpState>();

  constructor(private readonly limits: WeightLimits) {}

  charge(ip: string, weight: number, nowMs: number): WeightVerdict {
    const l = this.limits;
    let s = this.ips.get(ip);
    if (!s) {
      if (this.ips.size >= MAX_IPS) this.ips.delete(this.ips.keys().next().value as string);
      s = { windowStartMs: 0, used: 0, backoffUntilMs: 0, strikes: 0, bannedUntilMs: 0 };
      this.ips.set(ip, s);
    }
    if (nowMs >= s.windowStartMs + l.windowMs) {
      s.windowStartMs = nowMs - (nowMs % l.windowMs);
      s.used = 0;
    }
    if (s.bannedUntilMs > nowMs) return this.reject(418, s, s.bannedUntilMs, nowMs, "banned");
    if (s.backoffUntilMs > nowMs) {
      // Calling again before Retry-After elapsed: Binance's path from 429 to an IP ban.
      s.strikes++;
      if (s.strikes > l.strikesBeforeBan) {
        s.bannedUntilMs = nowMs + l.banMs;
        return this.reject(418, s, s.bannedUntilMs, nowMs, "in_backoff");
      }
      return this.reject(429, s, s.backoffUntilMs, nowMs, "in_backoff");
    }
    if (s.used + weight > l.limit) {
      s.backoffUntilMs = s.windowStartMs + l.windowMs;
      s.strikes = 0;
      return this.reject(429, s, s.backoffUntilMs, nowMs, "over_budget");
    }
    s.used += weight;
    return { status: 200, used: s.used };
  }

  private reject(
    status: 429 | 418,
    s: IpState,
    untilMs: number,
    nowMs: number,
    reason: "over_budget" | "in_backoff" | "banned",
  ): WeightVerdict {
    const retryAfterS = Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
    return { status, used: s.used, untilMs, retryAfterS, reason };
  }
}
