/**
 * `k2 backfill`: a second process beside a running K2, not part of it (docs/BACKFILL.md: why).
 * It writes finished Parquet files into the shared data folder; the result per file goes to
 * stderr, a progress bar to stdout when stdout is a terminal, a summary line at the end.
 * Exit 0 every file landed (or had already), 1 some failed, 2 bad arguments or folder locked.
 */
import {
  BackfillLockedError,
  fileLine,
  Progress,
  planJobs,
  runBackfill,
  runRestBackfill,
} from "../backfill/index.ts";
import { CliArgError } from "./args.ts";
import { BACKFILL_USAGE, parseBackfillArgs } from "./backfill-args.ts";

export interface BackfillIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTty: boolean;
  out(s: string): void;
  error(line: string): void;
}

export async function runBackfillCli(argv: readonly string[], io: BackfillIo): Promise<number> {
  let args: ReturnType<typeof parseBackfillArgs>;
  try {
    args = parseBackfillArgs(argv, io.env);
  } catch (e) {
    if (!(e instanceof CliArgError)) throw e;
    io.error(`k2 backfill: ${e.message}`);
    io.error(BACKFILL_USAGE);
    return 2;
  }
  if (args.kind === "help") {
    io.out(`${args.text}\n`);
    return 0;
  }
  const rest = args.source === "rest";
  // REST serves days; only the archive has monthly files.
  const jobs = planJobs(args.symbols, args.tables, args.from, args.to, rest ? {} : { period: args.period });
  const bar = io.isTty ? new Progress(jobs.length, io.out, rest ? "days" : "files") : undefined;
  const what = `(${args.symbols.join(",")} × ${args.tables.join(",")} × ${args.from}..${args.to})`;
  io.error(
    rest
      ? `k2 backfill: ${jobs.length} days ${what} from REST ${args.restUrl} (≤ ${args.restWeightPerMin} weight/min) into ${args.dataDir}, ${args.concurrency} at a time`
      : `k2 backfill: ${jobs.length} archive files ${what} (period ${args.period}) from ${args.archiveUrl} into ${args.dataDir}, ${args.concurrency} at a time`,
  );
  const common = {
    dataDir: args.dataDir,
    jobs,
    concurrency: args.concurrency,
    batchRows: args.batchRows,
    ...(bar ? { onRows: (n: number) => bar.rows(n) } : {}),
    onFile: (o: Parameters<typeof fileLine>[0]) => {
      if (bar) bar.file(() => io.error(fileLine(o)), o.job);
      else io.error(fileLine(o));
    },
  };
  try {
    const s = rest
      ? await runRestBackfill({
          ...common,
          restUrl: args.restUrl,
          weightBudgetPerMin: args.restWeightPerMin,
          openDayMarginMs: args.openDayMarginMs,
          ...(bar ? { onProgress: (job, f) => bar.part(job, f) } : {}),
        })
      : await runBackfill({
          ...common,
          archiveUrl: args.archiveUrl,
          ...(bar
            ? {
                onMoreJobs: (n: number) => {
                  bar.total += n;
                },
              }
            : {}),
        });
    bar?.end();
    const rate = s.rows / Math.max(1e-3, s.ms / 1000);
    io.error(
      `k2 backfill: ${s.landed} landed, ${s.alreadyLanded} already landed, ${s.failed} failed${s.fellBack > 0 ? ` (${s.fellBack} monthly files fell back to daily files)` : ""}; ${s.written} rows written of ${s.rows} read (${Math.round(rate)} rows/s) in ${(s.ms / 1000).toFixed(1)} s`,
    );
    return s.failed > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof BackfillLockedError) {
      io.error(`k2 backfill: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

export async function backfillMain(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) {
  return runBackfillCli(argv, {
    env,
    isTty: process.stdout.isTTY === true,
    out: (s) => process.stdout.write(s),
    error: (line) => console.error(line),
  });
}
