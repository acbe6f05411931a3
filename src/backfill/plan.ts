/**
 * What a backfill does: one job per (table, symbol, UTC day), each one daily archive file. The
 * table names are K2's (model/tables.ts); the archive calls agg_trades `aggTrades`.
 */
import type { ArchiveDataset, ArchiveFile } from "../archive/index.ts";
import type { TableName } from "../model/index.ts";

/** The tables a backfill can fill, with the archive dataset that holds each. */
export const BACKFILL_DATASET = { trades: "trades", agg_trades: "aggTrades" } as const satisfies Partial<
  Record<TableName, ArchiveDataset>
>;
export type BackfillTable = keyof typeof BACKFILL_DATASET;
export const BACKFILL_TABLES = Object.keys(BACKFILL_DATASET) as BackfillTable[];

export interface BackfillJob {
  readonly table: BackfillTable;
  readonly symbol: string;
  /** Position of the symbol in the run's list: the rows' symbol_id while they are staged. */
  readonly symbolId: number;
  readonly date: string;
  readonly file: ArchiveFile;
}

const MS_PER_DAY = 86_400_000;

/** Every YYYY-MM-DD from `from` to `to`, both included (both already validated). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += MS_PER_DAY)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Jobs in day order (oldest first), then symbol, then table: a resumed run continues in order. */
export function planJobs(
  symbols: readonly string[],
  tables: readonly BackfillTable[],
  from: string,
  to: string,
): BackfillJob[] {
  const jobs: BackfillJob[] = [];
  for (const date of daysBetween(from, to))
    for (const [symbolId, symbol] of symbols.entries())
      for (const table of tables)
        jobs.push({
          table,
          symbol,
          symbolId,
          date,
          file: { dataset: BACKFILL_DATASET[table], period: "daily", symbol, date },
        });
  return jobs;
}

/** One job's name in messages: `BTCUSDT trades 2024-12-31`. */
export function jobLabel(j: BackfillJob): string {
  return `${j.symbol} ${j.table} ${j.date}`;
}
