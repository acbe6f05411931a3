/**
 * Per-minute kline verdicts on disk: `<data>/completeness/klines/<SYMBOL>/<YYYY-MM-DD>.ndjson`,
 * one line per verdict, appended as minutes are judged (a few lines a minute per symbol). A later
 * line for the same minute wins (a minute re-judged after its repair). Read back by certificates
 * and after a restart; a torn last line (a crash mid-append) is skipped and counted, as the gap
 * journal does (src/ingest/gap-journal.ts). Outside the Parquet partition folders, which
 * compaction and retention own.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const KLINE_VERDICTS = ["verified", "repaired", "mismatch", "unverified"] as const;
export type KlineVerdict = (typeof KLINE_VERDICTS)[number];

export interface MinuteVerdict {
  readonly symbol: string;
  readonly open_time_us: number;
  /** -1 when the minute had no trades. */
  readonly first_id: number;
  readonly last_id: number;
  /** The kline's trade count `n`. */
  readonly trades: number;
  /** Stored trades with ids in [first_id, last_id] when judged. */
  readonly stored: number;
  readonly verdict: KlineVerdict;
  readonly detail: string;
  readonly checked_at_us: number;
}

export function klineVerdictDir(dataDir: string, symbol: string): string {
  return join(dataDir, "completeness", "klines", symbol);
}

export function klineVerdictPath(dataDir: string, symbol: string, date: string): string {
  return join(klineVerdictDir(dataDir, symbol), `${date}.ndjson`);
}

const dateOf = (us: number): string => new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);

/** Append one verdict (the file of its minute's UTC day). */
export function appendVerdict(dataDir: string, v: MinuteVerdict): void {
  mkdirSync(klineVerdictDir(dataDir, v.symbol), { recursive: true });
  appendFileSync(klineVerdictPath(dataDir, v.symbol, dateOf(v.open_time_us)), `${JSON.stringify(v)}\n`);
}

export interface DayVerdicts {
  /** Latest verdict per minute, ascending by open time. */
  readonly minutes: MinuteVerdict[];
  /** Lines that could not be read (a torn last line). */
  readonly skipped: number;
}

export function readVerdicts(dataDir: string, symbol: string, date: string): DayVerdicts {
  let text: string;
  try {
    text = readFileSync(klineVerdictPath(dataDir, symbol, date), "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return { minutes: [], skipped: 0 };
    throw e;
  }
  const byMinute = new Map<number, MinuteVerdict>();
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line.length === 0) continue;
    try {
      const v = JSON.parse(line) as MinuteVerdict;
      if (typeof v.open_time_us !== "number" || !KLINE_VERDICTS.includes(v.verdict))
        throw new Error("not a verdict");
      byMinute.set(v.open_time_us, v);
    } catch {
      skipped++;
    }
  }
  const minutes = [...byMinute.values()].sort((a, b) => a.open_time_us - b.open_time_us);
  return { minutes, skipped };
}
