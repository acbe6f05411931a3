/** /v1/summary/:symbol, /v1/symbols, /v1/gaps: parse, call the engine, serialize. */
import { Elysia } from "elysia";
import type { ColumnDef } from "../../../model/tables.ts";
import { divRoundHalfUp } from "../../../query/ohlcv.ts";
import type { Frame } from "../../../query/types.ts";
import type { V1Context } from "./context.ts";
import { isoUs, negotiate, serialize } from "./format.ts";
import { GAPS_DOC, SUMMARY_DOC, SUMMARY_HOOKS, SYMBOLS_DOC } from "./openapi.ts";
import {
  call,
  GAPS_PARAMS,
  parsePath,
  parseQuery,
  SUMMARY_PARAMS,
  SUMMARY_PATH,
  SYMBOLS_PARAMS,
} from "./params.ts";

const col = (name: string, type: ColumnDef["type"]): ColumnDef => ({ name, type });

/** Build a Frame from records: the flat formats then work for every endpoint. */
function frameOf(
  columns: readonly ColumnDef[],
  rows: readonly Record<string, Frame["data"][number][number]>[],
): Frame {
  return { columns, data: columns.map((c) => rows.map((r) => r[c.name] ?? null)), length: rows.length };
}

const SUMMARY_COLUMNS = [
  col("symbol", "string"),
  col("date", "string"),
  col("open", "decimal"),
  col("high", "decimal"),
  col("low", "decimal"),
  col("close", "decimal"),
  col("volume", "decimal"),
  col("quote_volume", "decimal"),
  col("vwap", "decimal"),
  col("trade_count", "int64"),
  col("first_trade_id", "int64"),
  col("last_trade_id", "int64"),
  col("gap_count", "int64"),
  col("gap_ids", "int64"),
];

const SYMBOL_COLUMNS = [
  col("table", "string"),
  col("symbol", "string"),
  col("first_time_us", "timestamp_us"),
  col("last_time_us", "timestamp_us"),
  col("first_id", "int64"),
  col("last_id", "int64"),
  col("rows", "int64"),
  col("files", "int64"),
];

const GAP_COLUMNS = [
  col("gap_id", "int64"),
  col("table", "string"),
  col("symbol", "string"),
  col("from_id", "int64"),
  col("to_id", "int64"),
  col("cause", "string"),
  col("state", "string"),
  col("detected_at_us", "timestamp_us"),
  col("updated_at_us", "timestamp_us"),
  col("attempts", "int64"),
  col("detail", "string"),
];

export function metaRoutes(ctx: V1Context) {
  return new Elysia({ name: "v1-meta" })
    .get(
      "/summary/:symbol",
      ({ params, request, set }) =>
        call(async () => {
          const { symbol } = parsePath(params, SUMMARY_PATH, "/v1/summary/:symbol");
          const query = parseQuery(request, SUMMARY_PARAMS, "/v1/summary/:symbol");
          const date = query.date ?? isoUs(ctx.engine.nowUs()).slice(0, 10);
          const s = await ctx.engine.summary(symbol, date);
          const k = s.candle;
          const rows = k
            ? [
                {
                  symbol: s.symbol,
                  date,
                  open: k.open,
                  high: k.high,
                  low: k.low,
                  close: k.close,
                  volume: k.volume8,
                  quote_volume: divRoundHalfUp(k.quote16, 100_000_000n),
                  vwap: k.volume8 > 0n ? divRoundHalfUp(k.quote16, k.volume8) : null,
                  trade_count: k.count,
                  first_trade_id: k.firstId,
                  last_trade_id: k.lastId,
                  gap_count: s.gaps.length,
                  gap_ids: s.gaps.reduce((n, g) => n + g.to_id - g.from_id + 1, 0),
                },
              ]
            : [];
          const gaps = s.gaps.map((g) => ({
            from_id: g.from_id,
            to_id: g.to_id,
            state: g.state,
            cause: g.cause,
          }));
          return serialize(
            frameOf(SUMMARY_COLUMNS, rows),
            negotiate(query.format, request.headers.get("accept")),
            {
              next_cursor: null,
              meta: { symbol: s.symbol, date, incomplete: s.incomplete, gaps },
            },
            set.headers,
          );
        }),
      { ...SUMMARY_HOOKS, detail: SUMMARY_DOC(SUMMARY_COLUMNS) },
    )
    .get(
      "/symbols",
      ({ request, set }) => {
        const query = parseQuery(request, SYMBOLS_PARAMS, "/v1/symbols");
        const rows = ctx.engine.coverage().map((c) => ({
          table: c.table,
          symbol: c.symbol,
          first_time_us: c.firstUs,
          last_time_us: c.lastUs,
          first_id: c.minId,
          last_id: c.maxId,
          rows: c.rows,
          files: c.files,
        }));
        return serialize(
          frameOf(SYMBOL_COLUMNS, rows),
          negotiate(query.format, request.headers.get("accept")),
          {
            next_cursor: null,
            meta: { count: rows.length },
          },
          set.headers,
        );
      },
      { detail: SYMBOLS_DOC(SYMBOL_COLUMNS) },
    )
    .get(
      "/gaps",
      ({ request, set }) =>
        call(async () => {
          const query = parseQuery(request, GAPS_PARAMS, "/v1/gaps");
          if (query.symbol !== undefined) ctx.engine.checkSymbol(query.symbol);
          const rows = ctx.engine.gaps(query.symbol).map((g) => ({
            gap_id: g.id,
            table: g.table,
            symbol: g.symbol,
            from_id: g.from_id,
            to_id: g.to_id,
            cause: g.cause,
            state: g.state,
            detected_at_us: g.detected_at_us,
            updated_at_us: g.updated_at_us,
            attempts: g.attempts,
            detail: g.detail,
          }));
          return serialize(
            frameOf(GAP_COLUMNS, rows),
            negotiate(query.format, request.headers.get("accept")),
            {
              next_cursor: null,
              meta: { count: rows.length, symbol: query.symbol ?? null },
            },
            set.headers,
          );
        }),
      { detail: GAPS_DOC(GAP_COLUMNS) },
    );
}
