/**
 * The OpenAPI description of each /v1 route (the `detail` Elysia hands to the spec at /docs/json):
 * parameters from the same tables that validate them (params.ts), response bodies from the same
 * column lists that serialize them, and the one error body every failure uses.
 */
import { t } from "elysia";
import { type ColumnDef, TABLE_COLUMNS, type TableName } from "../../../model/tables.ts";
import { OHLCV_COLUMNS } from "../../../query/ohlcv.ts";
import { CONTENT_TYPES, FORMATS } from "./format.ts";
import {
  BOOK_PARAMS,
  BOOK_SERIES_PARAMS,
  BOOK_STREAM_PARAMS,
  batchBodySchema,
  COMPLETENESS_PARAMS,
  GAPS_PARAMS,
  OHLCV_PARAMS,
  type Param,
  paramDocs,
  RECENT_PARAMS,
  REPLAY_PARAMS,
  ROWS_PARAMS,
  SUMMARY_PARAMS,
  SUMMARY_PATH,
  SYMBOLS_PARAMS,
} from "./params.ts";

type Schema = Record<string, unknown>;
const TEXT: Schema = { type: "string" };

/** OpenAPI 3.1 (the spec's version) says "may be null" with a type list, not `nullable`. */
const orNull = (s: Schema): Schema => ({ ...s, type: [s.type, "null"] });

const COLUMN_SCHEMA: Record<ColumnDef["type"], Schema> = {
  string: { type: "string" },
  int64: { type: "integer" },
  decimal: { type: "string", pattern: "^-?\\d+(\\.\\d{1,8})?$", description: "exact decimal as text" },
  timestamp_us: { type: "integer", description: "µs since the Unix epoch, UTC" },
  boolean: { type: "boolean" },
};

/** A row as rowObjects writes it: each column, plus an `<name>_iso` twin for each µs time. */
export function rowSchema(columns: readonly ColumnDef[]): Schema {
  const properties: Record<string, Schema> = {};
  for (const c of columns) {
    properties[c.name] = orNull(COLUMN_SCHEMA[c.type]);
    if (c.type === "timestamp_us")
      properties[`${c.name.slice(0, -3)}_iso`] = orNull({ type: "string", format: "date-time" });
  }
  return { type: "object", properties, required: Object.keys(properties) };
}

export const ERROR_SCHEMA: Schema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "request_id"],
      properties: {
        code: { type: "string", examples: ["invalid_parameter", "unknown_symbol", "rate_limited"] },
        message: {
          type: "string",
          description: "one sentence, starting with the field when one is at fault",
        },
        request_id: { type: "string" },
        field: { type: "string", description: "the parameter or body field at fault" },
      },
    },
  },
};

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: ERROR_SCHEMA } },
});
const ERRORS = {
  "400": error("a parameter or the body is wrong; `field` names it"),
  "401": error("X-API-Key missing or not recognised (when keys are configured)"),
  "404": error("the symbol is not known"),
  "405": error("the path exists for other methods; see the Allow header"),
  "413": error("over the scan budget or the body cap"),
  "422": error("the time range is over the range budget"),
  "429": error("rate limited; see Retry-After"),
  "503": error("shed under load or the engine is busy; see Retry-After"),
};

const envelope = (row: Schema, meta: Schema): Schema => ({
  type: "object",
  required: ["data", "next_cursor", "meta"],
  properties: {
    data: { type: "array", items: row },
    next_cursor: orNull({
      type: "string",
      description: "pass as cursor= for the next page; null at the end",
    }),
    meta: { type: "object", properties: meta, additionalProperties: true },
  },
});

/** 200 in every format the route serializes: JSON and msgpack carry the envelope, the flat ones rows. */
function ok(row: Schema, meta: Schema) {
  const body = envelope(row, meta);
  const content: Record<string, { schema: Schema }> = {};
  for (const f of FORMATS)
    content[CONTENT_TYPES[f].split(";")[0]!] = {
      schema:
        f === "json" || f === "msgpack"
          ? body
          : f === "parquet"
            ? { type: "string", format: "binary" }
            : TEXT,
    };
  return {
    "200": {
      description: "rows (format= or Accept picks the format; X-Next-Cursor and X-Meta carry paging for all)",
      content,
    },
    ...ERRORS,
  };
}

const int = { type: "integer" };
const str = { type: "string" };
const ROWS_META = {
  table: str,
  symbol: str,
  count: int,
  hot_rows: int,
  cold_rows: int,
  incomplete: { type: "boolean" },
};

/** Routes whose summary says more than the table name. */
const ROWS_SUMMARY: Partial<Record<TableName, string>> = {
  book_deltas:
    "order-book level changes of one symbol by event time, paged by cursor: one row per level " +
    "(quantity 0 = level removed; is_snapshot rows are a REST snapshot's levels), delta_id = " +
    "last_update_id × 2^14 + position in the event; read from files (visible within K2_FLUSH_INTERVAL_MS)",
};

export const ROWS_DOC = (table: TableName) => ({
  summary: ROWS_SUMMARY[table] ?? `${table} of one symbol by time range, paged by cursor`,
  parameters: paramDocs(ROWS_PARAMS),
  responses: ok(rowSchema(TABLE_COLUMNS[table]), {
    ...ROWS_META,
    order: str,
    limit: int,
    start_us: int,
    end_us: int,
  }),
});

export const RECENT_DOC = {
  summary: "trades of the last 1-60 minutes, newest first (memory + storage)",
  parameters: paramDocs(RECENT_PARAMS),
  responses: ok(rowSchema(TABLE_COLUMNS.trades), { ...ROWS_META, order: str, minutes: int, start_us: int }),
};

const OHLCV_META = {
  symbol: str,
  interval: str,
  fill: str,
  count: int,
  start_us: int,
  end_us: int,
  order: str,
  incomplete: { type: "boolean" },
  rounding: str,
};

export const OHLCV_DOC = {
  summary: "OHLCV candles from trades, UTC-aligned, exact decimals",
  parameters: paramDocs(OHLCV_PARAMS),
  responses: ok(rowSchema(OHLCV_COLUMNS), OHLCV_META),
};

export const BATCH_DOC = {
  summary: "up to 10 candle queries in one request (JSON)",
  requestBody: { required: true, content: { "application/json": { schema: batchBodySchema() } } },
  responses: {
    "200": {
      description: "one result per query, in order",
      content: {
        "application/json": {
          schema: envelope(envelope(rowSchema(OHLCV_COLUMNS), OHLCV_META), { count: int }),
        },
      },
    },
    ...ERRORS,
  },
};

/**
 * The spec generator replaces `detail.parameters` with its own list on a route with a path
 * parameter, so that route describes its parameters as schemas instead. They are t.Unknown:
 * documentation only, so Elysia accepts anything and parseQuery/parsePath stay the one check.
 */
function docOnly(spec: Readonly<Record<string, Param<unknown>>>) {
  return t.Object(
    Object.fromEntries(
      Object.entries(spec).map(([name, p]) => {
        const s = t.Unknown({ ...p.schema, description: p.expects });
        return [name, p.required ? s : t.Optional(s)];
      }),
    ),
  );
}
export const SUMMARY_HOOKS = { params: docOnly(SUMMARY_PATH), query: docOnly(SUMMARY_PARAMS) };

export const SUMMARY_DOC = (columns: readonly ColumnDef[]) => ({
  summary: "daily OHLC, volume, vwap, trade count, first/last id and gaps (UTC date)",
  responses: ok(rowSchema(columns), {
    symbol: str,
    date: str,
    incomplete: { type: "boolean" },
    gaps: { type: "array" },
  }),
});

export const SYMBOLS_DOC = (columns: readonly ColumnDef[]) => ({
  summary: "symbols with coverage per table",
  parameters: paramDocs(SYMBOLS_PARAMS),
  responses: ok(rowSchema(columns), { count: int }),
});

export const GAPS_DOC = (columns: readonly ColumnDef[]) => ({
  summary: "the gap ledger: repaired / missing at source / unrepaired id ranges",
  parameters: paramDocs(GAPS_PARAMS),
  responses: ok(rowSchema(columns), { count: int, symbol: orNull(str) }),
});

export const COMPLETENESS_DOC = {
  summary:
    "completeness certificate of one (table, symbol, UTC day): stored rows vs kline verdicts and Binance's archive, with a verdict and a canonical SHA-256 (docs/completeness.md)",
  parameters: paramDocs(COMPLETENESS_PARAMS),
  responses: {
    "200": {
      description: "the certificate (also kept under <data>/completeness/certificates/)",
      content: {
        "application/json": {
          schema: <Schema>{
            type: "object",
            required: ["table", "symbol", "date", "verdict", "reasons", "stored", "archive"],
            properties: {
              table: str,
              symbol: str,
              date: str,
              verdict: { type: "string", enum: ["complete", "incomplete", "unverified"] },
              gap_ledger: { type: "string", enum: ["present", "absent"] },
              reasons: { type: "array", items: str },
              stored: { type: "object", additionalProperties: true },
              klines: orNull({ type: "object", additionalProperties: true }),
              archive: { type: "object", additionalProperties: true },
              alarms: { type: "array", items: { type: "object", additionalProperties: true } },
              canonical: str,
              certified_at: str,
            },
          },
        },
      },
    },
    ...ERRORS,
  },
};

const bookLevel = <Schema>{
  type: "object",
  required: ["price", "quantity", "state", "known_time_us"],
  properties: {
    price: str,
    quantity: str,
    state: { type: "string", enum: ["exact", "beyond", "unverified"] },
    known_time_us: int,
  },
};

export const BOOK_DOC = {
  summary:
    "the order book of one symbol (K2_STREAMS=depth): live without `at`; with `at`, exactly as it was at that instant, rebuilt from the stored checkpoint and deltas; its sync state says whether it may be trusted (a ledgered resync window is not_synced)",
  parameters: paramDocs(BOOK_PARAMS),
  responses: {
    "200": {
      description: "the book, best level first per side, each level with what it is worth",
      content: {
        "application/json": {
          schema: <Schema>{
            type: "object",
            required: ["symbol", "state", "update_id", "bids", "asks"],
            properties: {
              symbol: str,
              at_us: orNull(int),
              state: {
                type: "string",
                enum: ["synced", "not_synced", "waiting", "idle", "no_data", "not_stored_yet"],
              },
              stored_through_us: int,
              update_id: int,
              bids: { type: "array", items: bookLevel },
              asks: { type: "array", items: bookLevel },
              base: { type: "object", additionalProperties: true },
              resync: { type: "object", additionalProperties: true },
            },
          },
        },
      },
    },
    ...ERRORS,
  },
};

export const BOOK_SERIES_DOC = {
  summary:
    "the order book of one symbol every `interval` ms (10 ms to a day) from `start` to `end`, computed from the stored deltas like a recorder that had kept snapshots at that interval (at most 10,000 snapshots; `levels` per side); each snapshot with its sync state; `format=csv|ndjson|parquet|msgpack` gives one row per level (time_us, state, update_id, side, level, price, quantity, level_state, known_time_us; a snapshot without levels is one row with null level columns)",
  parameters: paramDocs(BOOK_SERIES_PARAMS),
  responses: {
    "200": {
      description: "the snapshots, oldest first",
      content: {
        "application/json": {
          schema: <Schema>{
            type: "object",
            required: ["symbol", "interval_ms", "snapshots"],
            properties: {
              symbol: str,
              start_us: int,
              end_us: int,
              interval_ms: int,
              levels: int,
              snapshots: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    time_us: int,
                    state: { type: "string", enum: ["synced", "not_synced", "no_data", "not_stored_yet"] },
                    update_id: int,
                    bids: { type: "array", items: bookLevel },
                    asks: { type: "array", items: bookLevel },
                  },
                },
              },
            },
          },
        },
      },
    },
    ...ERRORS,
  },
};

export const BOOK_STREAM_DOC = {
  summary:
    "the live order book of one symbol as server-sent events: an `event: book` (the /v1/book live answer) whenever its update id or sync state changed, at most every `interval` ms; a `: keep-alive` comment every 15 s otherwise; `event: end` after `max_seconds` (reconnect to go on)",
  parameters: paramDocs(BOOK_STREAM_PARAMS),
  responses: {
    "200": { description: "text/event-stream", content: { "text/event-stream": { schema: TEXT } } },
    ...ERRORS,
  },
};

export const REPLAY_DOC = {
  summary: "stream rows in time order (NDJSON or SSE), paced by speed or by the reader",
  parameters: paramDocs(REPLAY_PARAMS),
  responses: {
    "200": {
      description:
        "one row object per NDJSON line (or per SSE `data:` event, then `event: end`); a failure after the start ends the stream with an error record",
      content: {
        "application/x-ndjson": { schema: TEXT },
        "text/event-stream": { schema: TEXT },
      },
    },
    ...ERRORS,
  },
};
