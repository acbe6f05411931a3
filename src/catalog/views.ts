/**
 * The catalog as the two later stages see it: the query engine's FileSource (files, max id,
 * coverage) and WAL replay's StoredIds (which exact ids are already in visible files).
 * Structural types only, so catalog/ does not import its consumers.
 */
import { perTable, TABLE_ID_COLUMN, TABLE_NAMES, type TableName } from "../model/tables.ts";
import { readStoredIds } from "../sink/parquet/index.ts";
import type { Catalog } from "./catalog.ts";

/**
 * Trades and agg trades are queried by trade time, the catalog records event time; the two
 * differ by milliseconds on Binance. Widening the pruning window by this much keeps every file
 * that could hold a matching row; the SQL then filters rows exactly.
 */
const TIME_SLACK_US = 60_000_000;
/**
 * Per table: 0 where the query's time column is the catalog's event_time_us (quotes, book
 * deltas; a book snapshot's and checkpoint's time is its row's event_time_us: model/book-rows.ts).
 */
const TIME_SLACK_US_OF: Readonly<Record<TableName, number>> = perTable((t) =>
  t === "trades" || t === "agg_trades" ? TIME_SLACK_US : 0,
);

const COVERAGE_TTL_MS = 1000;

interface CoverageRow {
  table: TableName;
  symbol: string;
  firstUs: number;
  lastUs: number;
  minId: number;
  maxId: number;
  rows: number;
  files: number;
}

export function fileSourceOf(
  catalog: Catalog,
  symbols: () => readonly string[],
  /** A query node's listing of the shared folder (FileSource.relist); absent where files are pinned. */
  relist?: () => Promise<void>,
) {
  let cache: { size: number; atMs: number; rows: CoverageRow[] } | undefined;
  return {
    ...(relist ? { relist } : {}),
    files(q: { table: TableName; symbol: string; fromUs?: number; toUs?: number }) {
      const slack = TIME_SLACK_US_OF[q.table];
      return catalog
        .files({
          table: q.table,
          symbol: q.symbol,
          ...(q.fromUs !== undefined ? { fromUs: q.fromUs - slack } : {}),
          ...(q.toUs !== undefined ? { toUs: q.toUs + slack } : {}),
        })
        .map((f) => ({
          path: f.path,
          minEventUs: f.minEventTimeUs - slack,
          maxEventUs: f.maxEventTimeUs + slack,
          minId: f.minId,
          maxId: f.maxId,
          rows: f.rows,
        }));
    },
    maxId: (table: TableName, symbol: string) => catalog.maxId(table, symbol),
    // Queries pin the files they list so compaction cannot delete one while DuckDB reads it.
    pin: (paths: readonly string[]) => catalog.pin(paths),
    // Every /v1 response asks (X-Data-Freshness-Ms): compute at most once per second, or when
    // the number of files changed, instead of walking every file per request.
    coverage() {
      const now = performance.now();
      if (cache && cache.size === catalog.size && now - cache.atMs < COVERAGE_TTL_MS) return cache.rows;
      const rows: CoverageRow[] = [];
      for (const table of TABLE_NAMES) {
        for (const symbol of symbols()) {
          const c = catalog.coverage(table, symbol);
          if (!c) continue;
          let minId = Number.POSITIVE_INFINITY;
          for (const f of catalog.files({ table, symbol })) if (f.minId < minId) minId = f.minId;
          rows.push({
            table,
            symbol,
            firstUs: c.firstEventTimeUs,
            lastUs: c.lastEventTimeUs,
            minId,
            maxId: catalog.maxId(table, symbol) ?? 0,
            rows: c.rows,
            files: c.files,
          });
        }
      }
      cache = { size: catalog.size, atMs: now, rows };
      return rows;
    },
  };
}

/**
 * WAL replay's view: the exact ids stored, read from each visible file whose id range touches
 * [from, to]. Ranges alone would lie: a file of repaired rows spans ids other files hold, and a
 * file's range can cover ids that were never stored (an exchange gap), which replay must ledger.
 */
export function storedIdsOf(catalog: Catalog) {
  return {
    async idsBetween(table: TableName, symbol: string, from: number, to: number): Promise<Set<number>> {
      const out = new Set<number>();
      for (const f of catalog.files({ table, symbol })) {
        if (f.maxId < from || f.minId > to) continue;
        for (const raw of await readStoredIds(f.path, TABLE_ID_COLUMN[table])) {
          const id = Number(raw);
          // Only the asked window: a whole day's ids of an overlapping file are not the answer.
          if (id >= from && id <= to) out.add(id);
        }
      }
      return out;
    },
    maxId: (table: TableName, symbol: string) => catalog.maxId(table, symbol) ?? -1,
  };
}
