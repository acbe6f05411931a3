/**
 * What a backfill does: one job per (table, symbol, archive file). A file is a UTC day's daily
 * file or, for a whole calendar month, the monthly file (`--period`, below). The table names are
 * K2's (model/tables.ts); the archive calls agg_trades `aggTrades`.
 */
import { type ArchiveDataset, type ArchiveFile, archiveMonthDays } from "../archive/index.ts";
import type { TableName } from "../model/index.ts";

/** The tables a backfill can fill, with the archive dataset that holds each. */
export const BACKFILL_DATASET = { trades: "trades", agg_trades: "aggTrades" } as const satisfies Partial<
  Record<TableName, ArchiveDataset>
>;
export type BackfillTable = keyof typeof BACKFILL_DATASET;
export const BACKFILL_TABLES = Object.keys(BACKFILL_DATASET) as BackfillTable[];

/**
 * Which archive files a run reads:
 * - daily:   every day from its daily file;
 * - monthly: a whole calendar month in the range that ended before the current month from its
 *            monthly file (a missing or bad one fails that month); other days daily;
 * - auto:    as monthly, but a month whose monthly file fails is read from its daily files.
 */
export const BACKFILL_PERIODS = ["auto", "daily", "monthly"] as const;
export type BackfillPeriod = (typeof BACKFILL_PERIODS)[number];

export interface BackfillJob {
  readonly table: BackfillTable;
  readonly symbol: string;
  /** Position of the symbol in the run's list: the rows' symbol_id while they are staged. */
  readonly symbolId: number;
  /** The file's date: YYYY-MM-DD (daily) or YYYY-MM (monthly). */
  readonly date: string;
  readonly file: ArchiveFile;
  /** The UTC days the file holds, oldest first (a daily file: its one day). */
  readonly days: readonly string[];
  /** Monthly, `--period auto`: when the file fails, its days are read from their daily files. */
  readonly fallback?: boolean;
}

const MS_PER_DAY = 86_400_000;

/** Every YYYY-MM-DD from `from` to `to`, both included (both already validated). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += MS_PER_DAY)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** The monthly file holding the day of a daily file. */
export function monthlyFileOf(f: ArchiveFile): ArchiveFile {
  return { ...f, period: "monthly", date: f.date.slice(0, 7) };
}

function dailyJob(table: BackfillTable, symbol: string, symbolId: number, date: string): BackfillJob {
  return {
    table,
    symbol,
    symbolId,
    date,
    file: { dataset: BACKFILL_DATASET[table], period: "daily", symbol, date },
    days: [date],
  };
}

/** A monthly job's days as daily jobs (`--period auto` after its monthly file failed). */
export function dailyJobsOf(j: BackfillJob): BackfillJob[] {
  return j.days.map((d) => dailyJob(j.table, j.symbol, j.symbolId, d));
}

export interface PlanOptions {
  readonly period?: BackfillPeriod;
  /** "Now" for which month is current (tests pin it); default the wall clock. */
  readonly nowMs?: number;
}

/**
 * Jobs in day order (oldest first; a month's file where its first day would be), then symbol,
 * then table: a resumed run continues in order. Default period: daily.
 */
export function planJobs(
  symbols: readonly string[],
  tables: readonly BackfillTable[],
  from: string,
  to: string,
  opts: PlanOptions = {},
): BackfillJob[] {
  const period = opts.period ?? "daily";
  const currentMonth = new Date(opts.nowMs ?? Date.now()).toISOString().slice(0, 7);
  const days = daysBetween(from, to);
  const jobs: BackfillJob[] = [];
  for (let i = 0; i < days.length; ) {
    const date = days[i]!;
    const month = date.slice(0, 7);
    const monthDays = archiveMonthDays(month);
    // A whole month inside the range that is over (Binance publishes a month's file after it).
    const whole =
      period !== "daily" && date === monthDays[0] && monthDays.at(-1)! <= to && month < currentMonth;
    for (const [symbolId, symbol] of symbols.entries())
      for (const table of tables)
        jobs.push(
          whole
            ? {
                table,
                symbol,
                symbolId,
                date: month,
                file: { dataset: BACKFILL_DATASET[table], period: "monthly", symbol, date: month },
                days: monthDays,
                ...(period === "auto" ? { fallback: true } : {}),
              }
            : dailyJob(table, symbol, symbolId, date),
        );
    i += whole ? monthDays.length : 1;
  }
  return jobs;
}

/** One job's name in messages: `BTCUSDT trades 2024-12-31` (a monthly file: `... 2024-12`). */
export function jobLabel(j: BackfillJob): string {
  return `${j.symbol} ${j.table} ${j.date}`;
}
