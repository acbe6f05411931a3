/**
 * `k2 backfill ...` arguments → what to run (pure: no I/O). Same conventions as `k2 dlq`:
 * `--flag value` or `--flag=value`, each flag once; bad input throws CliArgError with one
 * sentence and the runner exits 2. The archive root is --archive-url, else K2_ARCHIVE_URL; the
 * REST root --rest-url, else K2_BINANCE_REST_URL (src/config/keys.ts owns defaults and checks).
 */
import {
  BACKFILL_BATCH_ROWS,
  BACKFILL_PERIODS,
  BACKFILL_TABLES,
  type BackfillPeriod,
  type BackfillTable,
  OPEN_DAY_MARGIN_MS,
} from "../backfill/index.ts";
import { KEYS } from "../config/keys.ts";
import { SYMBOL_RE } from "../model/index.ts";
import { dayOfDate } from "../sink/parquet/index.ts";
import { CliArgError } from "./args.ts";
import { defaultDataDir } from "./dlq-args.ts";

export const BACKFILL_SOURCES = ["archive", "rest"] as const;
/** Archive files read at once: each holds a writer thread and up to 3 batches of rows. */
export const BACKFILL_MAX_CONCURRENCY = 8;
export const BACKFILL_DEFAULT_CONCURRENCY = 2;
/** Bound of --batch-rows: a staged batch of trades holds ~49 bytes of columns per row. */
const MAX_BATCH_ROWS = 1 << 22;
/** Longest range in one run (about ten years of days). */
const MAX_DAYS = 3660;
/**
 * --source rest's default share of the IP's weight budget (K2_REST_WEIGHT_BUDGET): half, so a
 * K2 running on the same IP keeps the other half for gap repair and book snapshots.
 */
const REST_DEFAULT_SHARE = 0.5;

export interface BackfillArgs {
  readonly kind: "run";
  readonly symbols: readonly string[];
  readonly tables: readonly BackfillTable[];
  readonly from: string;
  readonly to: string;
  readonly concurrency: number;
  readonly batchRows: number;
  readonly dataDir: string;
  readonly archiveUrl: string;
  readonly source: (typeof BACKFILL_SOURCES)[number];
  /** --source archive: daily files, monthly files for whole past months, or monthly with fallback. */
  readonly period: BackfillPeriod;
  readonly restUrl: string;
  /** --source rest: request weight per minute this run may use. */
  readonly restWeightPerMin: number;
  /**
   * --source rest: how far behind the exchange's clock an open day is read: at least a minute,
   * and twice K2_FLUSH_INTERVAL_MS, so rows a running K2 has not flushed yet are left to it.
   */
  readonly openDayMarginMs: number;
}

const FLAGS = [
  "--symbols",
  "--from",
  "--to",
  "--tables",
  "--source",
  "--period",
  "--concurrency",
  "--data-dir",
  "--archive-url",
  "--batch-rows",
  "--rest-url",
  "--rest-weight",
] as const;

export const BACKFILL_USAGE =
  "usage: k2 backfill --symbols BTCUSDT,ETHUSDT --from YYYY-MM-DD --to YYYY-MM-DD [flags] (k2 backfill --help)";

export const BACKFILL_HELP = `k2 backfill --symbols LIST --from DATE --to DATE [flags]
Load past days from Binance's public archive (daily zips + SHA-256 CHECKSUM files), or from its
REST API (--source rest: today, or days the archive does not have yet), into K2's Parquet files,
exactly once: ids K2 already stores (live ingest, an earlier run) are not written again.

flags:
  --symbols LIST      comma-separated, e.g. BTCUSDT,ETHUSDT (required)
  --from DATE         first UTC day, YYYY-MM-DD (required)
  --to DATE           last UTC day, YYYY-MM-DD, included (required)
  --tables LIST       ${BACKFILL_TABLES.join(",")} (default: both)
  --source NAME       archive (default) or rest (aggTrades weight 4, historicalTrades weight 25 per
                      1000 rows: a busy symbol's day of trades is thousands of requests, minutes)
  --period NAME       archive files to read: auto (default), daily or monthly. A whole calendar month
                      in the range that ended before the current month is read from its monthly file
                      (one CSV for the month; zip64 when over 4 GiB); auto reads a month whose monthly
                      file is missing or bad from its daily files, monthly fails it; partial months
                      and the current month are always daily; daily never uses monthly files
  --concurrency N     archive files (or REST days) read at once, 1..${BACKFILL_MAX_CONCURRENCY} (default ${BACKFILL_DEFAULT_CONCURRENCY})
  --data-dir DIR      K2's data folder (default K2_DATA_DIR, or K2_LOCAL_DIR for s3://, else ./data)
  --archive-url URL   archive root (default K2_ARCHIVE_URL, else ${KEYS.archiveUrl.default})
  --batch-rows N      rows per Parquet file written, 1..${MAX_BATCH_ROWS} (default ${BACKFILL_BATCH_ROWS}); memory is
                      about 3 × N × 50 bytes per concurrent file
  --rest-url URL      REST root for --source rest (default K2_BINANCE_REST_URL, else ${KEYS.binanceRestUrl.default})
  --rest-weight N     request weight per minute --source rest may use, 1..6000 (default half of
                      K2_REST_WEIGHT_BUDGET: a K2 on the same IP keeps the rest); 429 waits Retry-After

One line per archive file or REST day on stderr (landed / already landed / failed and why); a
progress bar on stdout when it is a terminal. A killed run resumes where it stopped when started
again. A REST day still open at the source (today) lands up to a minute behind the exchange's
clock (twice K2_FLUSH_INTERVAL_MS if that is longer: rows a running K2 may not have flushed yet are
left to it); run again later for the rest.

exit codes: 0 every file (or day) landed, 1 some failed (missing day, bad checksum, corrupt zip,
a REST day not served whole, ...; the others landed), 2 bad arguments or another backfill holds
the data folder`;

function list(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function date(v: string, flag: string): string {
  if (dayOfDate(v) === null)
    throw new CliArgError(`${flag}: expected a calendar date YYYY-MM-DD, got "${v}"`);
  return v;
}

/** argv after `backfill` → the run, or help. */
export function parseBackfillArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): BackfillArgs | { readonly kind: "help"; readonly text: string } {
  if (argv.includes("--help") || argv.includes("-h")) return { kind: "help", text: BACKFILL_HELP };
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (!(FLAGS as readonly string[]).includes(flag))
      throw new CliArgError(
        arg.startsWith("-")
          ? `unknown flag ${flag} (see k2 backfill --help)`
          : `unexpected argument "${arg}" (flags take the form --name value)`,
      );
    if (values.has(flag)) throw new CliArgError(`${flag} given twice`);
    let v: string | undefined;
    if (flag !== arg) v = arg.slice(eq + 1);
    else {
      v = argv[++i];
      if (v === undefined || (v.startsWith("--") && v.length > 2))
        throw new CliArgError(`${flag}: missing value`);
    }
    if (v.trim() === "") throw new CliArgError(`${flag}: empty value`);
    values.set(flag, v.trim());
  }
  for (const f of ["--symbols", "--from", "--to"])
    if (!values.has(f)) throw new CliArgError(`${f} is required (see k2 backfill --help)`);

  const source = values.get("--source") ?? "archive";
  if (!(BACKFILL_SOURCES as readonly string[]).includes(source))
    throw new CliArgError(`--source: expected ${BACKFILL_SOURCES.join(" or ")}, got "${source}"`);

  const period = values.get("--period") ?? "auto";
  if (!(BACKFILL_PERIODS as readonly string[]).includes(period))
    throw new CliArgError(`--period: expected ${BACKFILL_PERIODS.join(", ")}, got "${period}"`);
  if (source === "rest" && values.has("--period"))
    throw new CliArgError("--period: only for --source archive (REST is read day by day)");

  const symbols = [...new Set(list(values.get("--symbols")!).map((s) => s.toUpperCase()))];
  const badSymbol = symbols.find((s) => !SYMBOL_RE.test(s));
  if (symbols.length === 0 || badSymbol !== undefined)
    throw new CliArgError(
      `--symbols: expected comma-separated symbols like BTCUSDT,ETHUSDT, got "${values.get("--symbols")}"`,
    );

  const tables = [...new Set(list(values.get("--tables") ?? BACKFILL_TABLES.join(",")))];
  const badTable = tables.find((t) => !(BACKFILL_TABLES as readonly string[]).includes(t));
  if (tables.length === 0 || badTable !== undefined)
    throw new CliArgError(
      `--tables: expected some of ${BACKFILL_TABLES.join(",")}, got "${values.get("--tables")}"`,
    );

  const from = date(values.get("--from")!, "--from");
  const to = date(values.get("--to")!, "--to");
  const days = dayOfDate(to)! - dayOfDate(from)! + 1;
  if (days < 1) throw new CliArgError(`--to (${to}) is before --from (${from})`);
  if (days > MAX_DAYS)
    throw new CliArgError(`--from..--to spans ${days} days, more than the ${MAX_DAYS} one run takes`);

  const c = values.get("--concurrency") ?? String(BACKFILL_DEFAULT_CONCURRENCY);
  if (!/^\d{1,2}$/.test(c) || Number(c) < 1 || Number(c) > BACKFILL_MAX_CONCURRENCY)
    throw new CliArgError(`--concurrency: expected an integer 1..${BACKFILL_MAX_CONCURRENCY}, got "${c}"`);

  const br = values.get("--batch-rows") ?? String(BACKFILL_BATCH_ROWS);
  if (!/^\d{1,8}$/.test(br) || Number(br) < 1 || Number(br) > MAX_BATCH_ROWS)
    throw new CliArgError(`--batch-rows: expected an integer 1..${MAX_BATCH_ROWS}, got "${br}"`);

  const rawUrl = values.get("--archive-url") ?? env[KEYS.archiveUrl.env]?.trim() ?? KEYS.archiveUrl.default;
  const u = KEYS.archiveUrl.parse(rawUrl);
  if (!u.ok)
    throw new CliArgError(
      `${values.has("--archive-url") ? "--archive-url" : KEYS.archiveUrl.env}: expected ${u.expected}, got "${rawUrl}"`,
    );

  const rawRest =
    values.get("--rest-url") ?? env[KEYS.binanceRestUrl.env]?.trim() ?? KEYS.binanceRestUrl.default;
  const r = KEYS.binanceRestUrl.parse(rawRest);
  if (!r.ok)
    throw new CliArgError(
      `${values.has("--rest-url") ? "--rest-url" : KEYS.binanceRestUrl.env}: expected ${r.expected}, got "${rawRest}"`,
    );
  const rawBudget = env[KEYS.restWeightBudget.env]?.trim() ?? KEYS.restWeightBudget.default;
  const budget = KEYS.restWeightBudget.parse(rawBudget);
  if (!budget.ok)
    throw new CliArgError(`${KEYS.restWeightBudget.env}: expected ${budget.expected}, got "${rawBudget}"`);
  const w = values.get("--rest-weight") ?? String(Math.max(1, Math.floor(budget.value * REST_DEFAULT_SHARE)));
  if (!/^\d{1,4}$/.test(w) || Number(w) < 1 || Number(w) > 6000)
    throw new CliArgError(`--rest-weight: expected an integer 1..6000 (weight per minute), got "${w}"`);

  const rawFlush = env[KEYS.flushIntervalMs.env]?.trim() ?? KEYS.flushIntervalMs.default;
  const flush = KEYS.flushIntervalMs.parse(rawFlush);
  if (!flush.ok)
    throw new CliArgError(`${KEYS.flushIntervalMs.env}: expected ${flush.expected}, got "${rawFlush}"`);

  return {
    kind: "run",
    source: source as BackfillArgs["source"],
    period: period as BackfillPeriod,
    openDayMarginMs: Math.max(OPEN_DAY_MARGIN_MS, 2 * flush.value),
    restUrl: r.value,
    restWeightPerMin: Number(w),
    symbols,
    tables: tables as BackfillTable[],
    from,
    to,
    concurrency: Number(c),
    batchRows: Number(br),
    dataDir: values.get("--data-dir") ?? defaultDataDir(env),
    archiveUrl: u.value,
  };
}
