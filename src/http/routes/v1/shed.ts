/**
 * Load shedding for /v1, driven by the degradation level (src/resilience/degradation.ts):
 * AGGRESSIVE refuses the expensive queries (replay, candle batches, candles over more than a day
 * or with an open range) with 503; CIRCUIT_BREAK refuses every /v1 query with 503. Health and
 * metrics are never shed. Ingest comes first: a query that would compete with writing accepted
 * trades waits for the level to drop, and Retry-After says for how long at least.
 */
import { HttpError } from "../../errors.ts";
import { timeValueUs } from "./values.ts";

/** What the API needs from the degradation manager (DegradationManager satisfies it). */
export interface LoadView {
  /** The level's decision for a query of this cost (degradation.ts owns the thresholds). */
  allowQuery(cost: "cheap" | "expensive"): boolean;
  readonly levelName: string;
  readonly retryAfterMs: number;
}

const DAY_US = 86_400_000_000;

/** Replay, batches, and candles over an open range or more than a day. */
export function isExpensive(url: URL): boolean {
  const p = url.pathname;
  if (p === "/v1/replay" || p === "/v1/ohlcv/batch") return true;
  if (p !== "/v1/ohlcv") return false;
  try {
    const start = url.searchParams.get("start");
    const end = url.searchParams.get("end");
    if (start === null || end === null) return true;
    return timeValueUs(end, "end") - timeValueUs(start, "start") > DAY_US;
  } catch {
    return false; // a bad time is a 400 from the route's own validation, not a shed
  }
}

/** Throws 503 (with Retry-After in `headers`) when the level sheds this request. */
export function shed(load: LoadView, url: URL, headers: Record<string, string | number>): void {
  if (load.allowQuery("cheap") && (!isExpensive(url) || load.allowQuery("expensive"))) return;
  headers["retry-after"] = String(Math.max(1, Math.ceil(load.retryAfterMs / 1000)));
  throw new HttpError(
    503,
    "overloaded",
    load.allowQuery("cheap")
      ? `K2 is at degradation level ${load.levelName}: expensive queries (replay, candle batches, candles over more than a day) are refused while ingest recovers`
      : `K2 is at degradation level ${load.levelName}: queries are refused while ingest recovers`,
  );
}
