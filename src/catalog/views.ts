/**
 * The catalog as the two later stages see it: the query engine's FileSource (files, max id,
 * coverage) and WAL replay's StoredIds (which exact ids are already in visible files).
 * Structural types only, so catalog/ does not import its consumers.
 */
import { TABLE_ID_COLUMN, TABLE_NAMES, type TableName } from "../model/tables.ts";
import { readStoredIds } from "../sink/parquet/index.ts";
import type { Catalog } from "./catalog.ts";

/**
 * Trades and agg trades are queried by trade time, the catalog records event time; the two
 * differ by milliseconds on Binance. Widening the pruning window by this much keeps every file
 * that could hold a matching row; the SQL then filters rows exactly.
 */
const TIME_SLACK_US = 60_000_000;

export function fileSourceOf(catalog: Catalog, symbols: () => readonly string[]) {
  return {
    files(q: { table: TableName; symbol: string; fromUs?: number; toUs?: number }) {
      const slack = q.table === "quotes" ? 0 : TIME_SLACK_US;
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
    coverage() {
      const out = [];
      for (const table of TABLE_NAMES) {
        for (const symbol of symbols()) {
          const c = catalog.coverage(table, symbol);
          if (!c) continue;
          const files = catalog.files({ table, symbol });
          out.push({
            table,
            symbol,
            firstUs: c.firstEventTimeUs,
            lastUs: c.lastEventTimeUs,
            minId: Math.min(...files.map((f) => f.minId)),
            maxId: catalog.maxId(table, symbol) ?? 0,
            rows: c.rows,
            files: c.files,
          });
        }
      }
      return out;
    },
  };
}

export function storedIdsOf(catalog: Catalog) {
  return {
    async idsBetween(table: TableName, symbol: string, from: number, to: number): Promise<Set<number>> {
      const out = new Set<number>();
      for (const f of catalog.files({ table, symbol })) {
        if (f.maxId < from || f.minId > to) continue;
        for (const id of await readStoredIds(f.path, TABLE_ID_COLUMN[table])) out.add(Number(id));
      }
      return out;
    },
    maxId: (table: TableName, symbol: string) => catalog.maxId(table, symbol) ?? -1,
  };
}
