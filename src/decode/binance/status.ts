/**
 * Decode statuses: a small integer per frame, counted by the caller (metrics label = statusName)
 * and used to route failing frames to the dead-letter queue. Only OK wrote a row.
 *
 * Precedence when a frame has several problems (so a status is reproducible and testable):
 * TOO_LARGE, then BAD_UTF8 (bytes form), then JSON syntax (TRUNCATED / MALFORMED, checked over the
 * whole frame), then the first semantic problem in frame order (the combined stream name before
 * its payload), and MISSING_FIELD last.
 */
export const DecodeStatus = {
  /** One row written at `slot`. */
  OK: 0,
  /** A control response: `{"result":..,"id":..}` or `{"code":..,"msg":..,"id":..}`. */
  CONTROL: 1,
  /** `{"e":"serverShutdown"}` (raw) or stream `!serverShutdown` (combined): reconnect now. */
  SERVER_SHUTDOWN: 2,
  /** Valid frame for a symbol not in the SymbolLookup, or a stream kind this decoder does not ingest. */
  NOT_CONFIGURED: 3,
  /** The frame ends inside a value: a prefix of a longer frame, or empty. */
  TRUNCATED: 4,
  /** A required field of the event is absent (or the combined wrapper lacks stream/data). */
  MISSING_FIELD: 5,
  /** An integer field (time) is fractional, has an exponent, is negative, or is ≥ 2^53 µs. */
  BAD_NUMBER: 6,
  /** A price/quantity string is not a plain non-negative DECIMAL(18,8) (see model/decimal.ts). */
  BAD_DECIMAL: 7,
  /** An id is negative or ≥ 2^53 (not exact in a Float64Array column). */
  ID_OUT_OF_RANGE: 8,
  /** `e` names an event this decoder does not know, or the frame has no recognisable shape. */
  UNKNOWN_EVENT: 9,
  /** A field has the wrong JSON type (e.g. a number where a decimal string is expected). */
  BAD_TYPE: 10,
  /** Bytes form only: the frame is not valid UTF-8. */
  BAD_UTF8: 11,
  /** The frame is longer than MAX_FRAME_LENGTH. */
  TOO_LARGE: 12,
  /** Anything else: JSON syntax errors, duplicate keys, nesting deeper than MAX_DEPTH, ... */
  MALFORMED: 13,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/**
 * Longest frame accepted, in string code units (string form) or bytes (bytes form). Binance
 * trade/aggTrade/bookTicker frames are under 300 bytes; 64 KiB leaves room for control responses
 * (LIST_SUBSCRIPTIONS of 1024 streams is about 25 KB) and keeps every position below 2^17, which
 * the key scanner relies on (see fields.ts readKey).
 */
export const MAX_FRAME_LENGTH = 65_536;
/** Deepest nesting of skipped values; deeper is MALFORMED (bounds the skipper's recursion). */
export const MAX_DEPTH = 32;

const NAMES = [
  "ok",
  "control",
  "server_shutdown",
  "not_configured",
  "truncated",
  "missing_field",
  "bad_number",
  "bad_decimal",
  "id_out_of_range",
  "unknown_event",
  "bad_type",
  "bad_utf8",
  "too_large",
  "malformed",
] as const;
export type DecodeStatusName = (typeof NAMES)[number];

/** Stable snake_case name of a status for logs and metric labels ("unknown" outside the range). */
export function statusName(s: number): DecodeStatusName | "unknown" {
  return NAMES[s] ?? "unknown";
}

/** Every status with its name, in code order (tests, metrics pre-registration). */
export const ALL_STATUSES: readonly DecodeStatus[] = Object.values(DecodeStatus);
