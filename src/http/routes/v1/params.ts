/**
 * Request vocabulary of /v1: TypeBox schemas (validated by Elysia before a handler runs), time and
 * cursor parsing with 400s that name the field, and the QueryError → HttpError mapping.
 */
import { t } from "elysia";
import { INTERVALS } from "../../../query/ohlcv.ts";
import { QueryError } from "../../../query/types.ts";
import { HttpError } from "../../errors.ts";
import { FORMATS } from "./format.ts";

const literals = <T extends string>(xs: readonly T[]) => t.Union(xs.map((x) => t.Literal(x)));

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 100;
export const DEFAULT_CANDLES = 1_000;

/** ISO-8601 (date, or date-time with up to µs and an optional zone) or epoch milliseconds. */
const TIME_RE = /^(\d{1,15}|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?)$/;

export const symbolSchema = t.String({ pattern: "^[A-Z0-9]{2,20}$", description: "e.g. BTCUSDT" });
export const timeSchema = t.String({ pattern: TIME_RE.source, description: "ISO-8601 or epoch ms" });
export const formatSchema = literals(FORMATS);
/** Integers arrive as text; the form is checked here, the range by intParam (which names the field). */
export const limitSchema = t.String({ pattern: "^\\d{1,6}$", description: `integer 1..${MAX_LIMIT}` });
export const intervalSchema = literals(INTERVALS);

export const rowsQuerySchema = t.Object({
  symbol: symbolSchema,
  start: t.Optional(timeSchema),
  end: t.Optional(timeSchema),
  limit: t.Optional(limitSchema),
  cursor: t.Optional(t.String({ maxLength: 200 })),
  order: t.Optional(literals(["asc", "desc"] as const)),
  format: t.Optional(formatSchema),
});

export const recentQuerySchema = t.Object({
  symbol: symbolSchema,
  minutes: t.Optional(t.String({ pattern: "^\\d{1,3}$", description: "integer 1..60" })),
  limit: t.Optional(limitSchema),
  cursor: t.Optional(t.String({ maxLength: 200 })),
  format: t.Optional(formatSchema),
});

const ohlcvFields = {
  symbol: symbolSchema,
  interval: intervalSchema,
  start: t.Optional(timeSchema),
  end: t.Optional(timeSchema),
  limit: t.Optional(limitSchema),
  cursor: t.Optional(t.String({ maxLength: 200 })),
  fill: t.Optional(literals(["none", "previous"] as const)),
};
export const ohlcvQuerySchema = t.Object({ ...ohlcvFields, format: t.Optional(formatSchema) });
export const MAX_BATCH = 10;
export const ohlcvBatchSchema = t.Object({
  queries: t.Array(
    t.Object({
      ...ohlcvFields,
      limit: t.Optional(t.Integer({ minimum: 1, maximum: MAX_LIMIT })),
    }),
    { minItems: 1, maxItems: MAX_BATCH },
  ),
});

export const summaryQuerySchema = t.Object({
  date: t.Optional(t.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$" })),
  format: t.Optional(formatSchema),
});

export const replayQuerySchema = t.Object({
  table: literals(["trades", "agg_trades", "quotes"] as const),
  symbol: symbolSchema,
  start: t.Optional(timeSchema),
  end: t.Optional(timeSchema),
  speed: t.Optional(
    t.String({
      pattern: "^\\d{1,5}(\\.\\d{1,3})?$",
      description: "0 (as fast as read) or a factor up to 10000",
    }),
  ),
  format: t.Optional(literals(["ndjson", "sse"] as const)),
});

/** Integer text in [min, max] (default when absent); 400 naming `field` otherwise. */
export function intParam(
  text: string | undefined,
  field: string,
  min: number,
  max: number,
  dflt: number,
): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new HttpError(
      400,
      "invalid_parameter",
      `${field}: expected an integer ${min}..${max}, got ${JSON.stringify(text)}`,
      field,
    );
  return n;
}

/** Time text → µs since epoch (UTC when no zone is given); 400 naming `field` when impossible. */
export function parseTimeUs(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{1,15}$/.test(text)) return Number(text) * 1000;
  const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(?::(\d{2}))?(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
    text,
  );
  if (m) {
    const [, date, hm = "00:00", sec = "00", frac = "", zone = "Z"] = m;
    const z = zone === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
    const ms = Date.parse(`${date}T${hm}:${sec}${z}`);
    // Date.parse rolls over impossible dates (02-30); reject them by round-tripping the date part.
    if (Number.isFinite(ms) && (zone !== "Z" || new Date(ms).toISOString().slice(0, 10) === date)) {
      return ms * 1000 + Number(frac.padEnd(6, "0"));
    }
  }
  throw new HttpError(
    400,
    "invalid_parameter",
    `${field}: expected ISO-8601 or epoch milliseconds, got ${JSON.stringify(text)}`,
    field,
  );
}

export function parseRange(
  start: string | undefined,
  end: string | undefined,
): { fromUs?: number; toUs?: number } {
  const fromUs = parseTimeUs(start, "start");
  const toUs = parseTimeUs(end, "end");
  if (fromUs !== undefined && toUs !== undefined && toUs <= fromUs)
    throw new HttpError(400, "invalid_parameter", "end: must be after start", "end");
  return { fromUs, toUs };
}

/** Opaque cursors: base64url of `v1|<parts>`; each page's cursor is tied to its query kind. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(["v1", ...parts].join("|")).toString("base64url");
}

export function decodeCursor(
  cursor: string | undefined,
  expect: readonly string[],
  payload = 1,
): string[] | undefined {
  if (cursor === undefined) return undefined;
  const bad = (why: string) =>
    new HttpError(
      400,
      "invalid_cursor",
      `cursor: ${why}; pass next_cursor from a previous page unchanged`,
      "cursor",
    );
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad("not a cursor");
  const parts = Buffer.from(cursor, "base64url").toString().split("|");
  if (parts[0] !== "v1" || parts.length !== 1 + expect.length + payload) throw bad("not a cursor");
  for (let i = 0; i < expect.length; i++)
    if (parts[i + 1] !== expect[i]) throw bad("it belongs to a different query");
  return parts.slice(expect.length + 1);
}

export function cursorInt(text: string | undefined): number {
  if (text === undefined || !/^-?\d{1,16}$/.test(text))
    throw new HttpError(
      400,
      "invalid_cursor",
      "cursor: not a cursor; pass next_cursor from a previous page unchanged",
      "cursor",
    );
  return Number(text);
}

const STATUS: Record<QueryError["kind"], [number, string]> = {
  bad_request: [400, "invalid_parameter"],
  unknown_symbol: [404, "unknown_symbol"],
  too_many_rows: [413, "too_many_rows"],
  range_too_large: [422, "range_too_large"],
  busy: [503, "busy"],
};

/** Typed query failures become HttpErrors for the one mapper; anything else stays unexpected. */
export function toHttp(e: unknown): unknown {
  if (!(e instanceof QueryError)) return e;
  const [status, code] = STATUS[e.kind];
  return new HttpError(status, code, e.message, e.field);
}

export async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toHttp(e);
  }
}
