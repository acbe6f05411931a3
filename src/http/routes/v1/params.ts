/**
 * The parameters each /v1 route takes: one table per route, read by parseQuery (strict: unknown,
 * repeated, empty and missing parameters are 400s naming the parameter) and by queryDocs (the
 * OpenAPI parameters). Values are checked by values.ts; typed query failures map to HttpErrors here.
 */
import { TABLE_NAMES } from "../../../model/tables.ts";
import { INTERVALS } from "../../../query/ohlcv.ts";
import { QueryError } from "../../../query/types.ts";
import { HttpError } from "../../errors.ts";
import { FORMATS } from "./format.ts";
import {
  dateValue,
  didYouMean,
  intValue,
  invalid,
  oneOfValue,
  speedValue,
  symbolValue,
  timeValueUs,
} from "./values.ts";

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 100;
export const DEFAULT_CANDLES = 1_000;
export const MAX_BATCH = 10;

export interface Param<T, R extends boolean = boolean> {
  readonly required: R;
  readonly parse: (text: string, field: string) => T;
  /** What a good value looks like, for "required" messages and the docs. */
  readonly expects: string;
  readonly schema: Readonly<Record<string, unknown>>;
}
type Spec = Readonly<Record<string, Param<unknown>>>;
export type Values<S extends Spec> = {
  -readonly [K in keyof S]: S[K] extends Param<infer T, infer R>
    ? R extends true
      ? T
      : T | undefined
    : never;
};

const optional = <T>(
  parse: Param<T>["parse"],
  expects: string,
  schema: Param<T>["schema"],
): Param<T, false> => ({ required: false, parse, expects, schema });
const required = <T>(p: Param<T, false>): Param<T, true> => ({ ...p, required: true });
const oneOf = <T extends string>(values: readonly T[]) =>
  optional((s, f) => oneOfValue(s, f, values), `one of ${values.join(", ")}`, {
    type: "string",
    enum: values,
  });
const int = (min: number, max: number, dflt: number) =>
  optional((s, f) => intValue(s, f, min, max), `a whole number from ${min} to ${max}`, {
    type: "integer",
    minimum: min,
    maximum: max,
    default: dflt,
  });

const symbol = optional(symbolValue, "a symbol such as BTCUSDT (any case)", {
  type: "string",
  pattern: "^[A-Za-z0-9]{2,20}$",
  examples: ["BTCUSDT"],
});
const time = optional(
  timeValueUs,
  "ISO-8601 (2024-01-02, 2024-01-02T03:04:05.123456Z, +02:00 offsets) or epoch milliseconds",
  { type: "string", examples: ["2024-01-02T03:04:05Z", "1704164645000"] },
);
const cursor = optional(
  (s, f) => {
    if (s.length > 200) throw invalid(f, "not a cursor; pass next_cursor from a previous page unchanged");
    return s;
  },
  "next_cursor of the previous page, unchanged",
  { type: "string", maxLength: 200 },
);
const format = oneOf(FORMATS);
const order = oneOf(["asc", "desc"] as const);

export const ROWS_PARAMS = {
  symbol: required(symbol),
  start: time,
  end: time,
  limit: int(1, MAX_LIMIT, DEFAULT_LIMIT),
  cursor,
  order,
  format,
};
export const RECENT_PARAMS = {
  symbol: required(symbol),
  minutes: int(1, 60, 5),
  limit: int(1, MAX_LIMIT, MAX_LIMIT),
  cursor,
  format,
};
/** One candle query: the GET query and each item of the batch body. */
export const OHLCV_ITEM_PARAMS = {
  symbol: required(symbol),
  interval: required(oneOf(INTERVALS)),
  start: time,
  end: time,
  limit: int(1, MAX_LIMIT, DEFAULT_CANDLES),
  cursor,
  fill: oneOf(["none", "previous"] as const),
  order,
};
export const OHLCV_PARAMS = { ...OHLCV_ITEM_PARAMS, format };
export const SUMMARY_PATH = { symbol: required(symbol) };
export const SUMMARY_PARAMS = {
  date: optional(dateValue, "a UTC date such as 2024-01-31 (default: today)", {
    type: "string",
    format: "date",
  }),
  format,
};
export const SYMBOLS_PARAMS = { format };
export const GAPS_PARAMS = { symbol, format };
export const COMPLETENESS_PARAMS = {
  symbol: required(symbol),
  date: required(optional(dateValue, "a UTC date such as 2025-01-02", { type: "string", format: "date" })),
  table: oneOf(["trades", "agg_trades"] as const),
  spot_checks: int(0, 10, 0),
};
/** Levels per side a book answer may hold (Binance's deepest snapshot). */
export const MAX_BOOK_LEVELS = 5_000;
export const BOOK_PARAMS = {
  symbol: required(symbol),
  at: time,
  levels: int(1, MAX_BOOK_LEVELS, 20),
};
export const BOOK_SERIES_PARAMS = {
  symbol: required(symbol),
  start: required(time),
  end: required(time),
  interval: int(10, 86_400_000, 1000),
  levels: int(1, MAX_BOOK_LEVELS, 20),
  format,
};
export const BOOK_STREAM_PARAMS = {
  symbol: required(symbol),
  levels: int(1, MAX_BOOK_LEVELS, 20),
  interval: int(100, 60_000, 1000),
  max_seconds: int(1, 86_400, 3_600),
};
export const REPLAY_PARAMS = {
  table: required(oneOf(TABLE_NAMES)),
  symbol: required(symbol),
  start: time,
  end: time,
  speed: optional(speedValue, "0 (as fast as storage is read) or a factor up to 10000", {
    type: "string",
    pattern: "^\\d{1,5}(\\.\\d{1,3})?$",
    default: "0",
  }),
  format: oneOf(["ndjson", "sse"] as const),
};

/** Check named texts against `spec`; `prefix` places the field ("queries.1." in a batch body). */
function check<S extends Spec>(
  spec: S,
  given: ReadonlyMap<string, string>,
  prefix: string,
  takes: string,
): Values<S> {
  const names = Object.keys(spec);
  for (const [name, text] of given) {
    if (!Object.hasOwn(spec, name)) {
      const near = didYouMean(name, names);
      throw invalid(
        `${prefix}${name}`,
        `unknown parameter${near || ` (${takes} takes ${names.join(", ")})`}`,
      );
    }
    if (text === "") throw invalid(`${prefix}${name}`, "empty; give a value or leave the parameter out");
  }
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const p = spec[name]!;
    const text = given.get(name);
    if (text === undefined) {
      if (p.required) throw invalid(`${prefix}${name}`, `required: ${p.expects}`);
      continue;
    }
    out[name] = p.parse(text, `${prefix}${name}`);
  }
  return out as Values<S>;
}

/** The query string of `request` checked against `spec`; `route` names it in messages. */
export function parseQuery<S extends Spec>(request: Request, spec: S, route: string): Values<S> {
  const given = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const [name, text] of new URL(request.url).searchParams) {
    counts.set(name, (counts.get(name) ?? 0) + 1);
    given.set(name, text);
  }
  for (const [name, n] of counts)
    if (n > 1 && Object.hasOwn(spec, name)) throw invalid(name, `given ${n} times; give it once`);
  return check(spec, given, "", route);
}

/** Path parameters (already split by the router) checked like query parameters. */
export function parsePath<S extends Spec>(
  params: Record<string, unknown>,
  spec: S,
  route: string,
): Values<S> {
  return check(spec, new Map(Object.entries(params).map(([k, v]) => [k, String(v)])), "", route);
}

const ITEM_EXAMPLE = '{"symbol":"BTCUSDT","interval":"1m"}';

/** The POST /v1/ohlcv/batch body `{queries: [...]}`; items are checked like GET /v1/ohlcv's query. */
export function parseBatch(body: unknown): Values<typeof OHLCV_ITEM_PARAMS>[] {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalid("queries", `expected a JSON object such as {"queries": [${ITEM_EXAMPLE}]}`);
  for (const k of Object.keys(body))
    if (k !== "queries")
      throw invalid(k, `unknown field${didYouMean(k, ["queries"])} (the body takes only "queries")`);
  const qs = (body as { queries?: unknown }).queries;
  if (!Array.isArray(qs) || qs.length < 1 || qs.length > MAX_BATCH)
    throw invalid(
      "queries",
      `expected a list of 1 to ${MAX_BATCH} queries such as [${ITEM_EXAMPLE}], got ${Array.isArray(qs) ? `${qs.length} queries` : JSON.stringify(qs ?? null)}`,
    );
  return qs.map((item: unknown, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw invalid(`queries.${i}`, `expected an object such as ${ITEM_EXAMPLE}`);
    const given = new Map<string, string>();
    for (const [k, v] of Object.entries(item)) {
      // Numbers are welcome where text holds a number (limit, epoch-ms times).
      if (typeof v === "string") given.set(k, v);
      else if (typeof v === "number" && Number.isInteger(v) && v >= 0) given.set(k, String(v));
      else if (Object.hasOwn(OHLCV_ITEM_PARAMS, k))
        throw invalid(
          `queries.${i}.${k}`,
          `expected ${OHLCV_ITEM_PARAMS[k as keyof typeof OHLCV_ITEM_PARAMS].expects}, got ${JSON.stringify(v)}`,
        );
      else given.set(k, String(v));
    }
    return check(OHLCV_ITEM_PARAMS, given, `queries.${i}.`, "a batch query");
  });
}

/** The OpenAPI parameter objects of `spec`. */
export function paramDocs(
  spec: Spec,
  where: "query" | "path" = "query",
): { name: string; in: "query" | "path"; required: boolean; description: string; schema: object }[] {
  return Object.entries(spec).map(([name, p]) => ({
    name,
    in: where,
    required: p.required,
    description: p.expects,
    schema: p.schema,
  }));
}

/** The OpenAPI schema of one batch item (and of the whole batch body). */
export function batchBodySchema(): Record<string, unknown> {
  const properties = Object.fromEntries(
    Object.entries(OHLCV_ITEM_PARAMS).map(([name, p]) => [name, { ...p.schema, description: p.expects }]),
  );
  const requiredNames = Object.entries(OHLCV_ITEM_PARAMS)
    .filter(([, p]) => p.required)
    .map(([n]) => n);
  return {
    type: "object",
    additionalProperties: false,
    required: ["queries"],
    properties: {
      queries: {
        type: "array",
        minItems: 1,
        maxItems: MAX_BATCH,
        items: { type: "object", additionalProperties: false, required: requiredNames, properties },
      },
    },
  };
}

/** start/end → µs; end must come after start. */
export function checkRange(fromUs: number | undefined, toUs: number | undefined, prefix = ""): void {
  if (fromUs !== undefined && toUs !== undefined && toUs <= fromUs)
    throw invalid(`${prefix}end`, "must be after start");
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
