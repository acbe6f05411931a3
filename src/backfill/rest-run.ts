/**
 * A `--source rest` run: the same jobs as the archive's (plan.ts), each a day read from REST
 * (rest-day.ts) instead of an archive file. One REST client for the whole run: its requests go
 * one at a time under one weight budget, so `concurrency` days at once only overlap encoding
 * with waiting, never exceed the budget. Encoding runs on the main thread: REST delivers at most
 * a few thousand rows a second, far below what one thread encodes.
 */
import { BACKFILL_WRITER } from "../catalog/index.ts";
import { BatchPool } from "../sink/parquet/index.ts";
import { BinanceRest } from "../source/binance/rest.ts";
import type { FileOutcome } from "./file.ts";
import type { BackfillJob } from "./plan.ts";
import { backfillRestDay } from "./rest-day.ts";
import { BACKFILL_BATCH_ROWS, type RunSummary, summarize } from "./run.ts";
import { stagedWriter } from "./stage.ts";
import { BackfillState } from "./state.ts";

export interface RestRunOptions {
  readonly dataDir: string;
  /** Binance REST root (K2_BINANCE_REST_URL). */
  readonly restUrl: string;
  /** Request weight this run may use per window (the client keeps 10 % of it in reserve). */
  readonly weightBudgetPerMin: number;
  /** Binance's window is one minute; shorter only against a simulator set to match. */
  readonly weightWindowMs?: number;
  readonly jobs: readonly BackfillJob[];
  readonly concurrency: number;
  readonly batchRows?: number;
  readonly zstdLevel?: number;
  readonly retryDelayMs?: (attempt: number) => number;
  /** An open day (today) is read up to this far behind the exchange's clock (rest-page.ts). */
  readonly openDayMarginMs?: number;
  readonly onStart?: (job: BackfillJob) => void;
  readonly onRows?: (n: number) => void;
  /** A day under way has read `fraction` of itself (by time). */
  readonly onProgress?: (job: BackfillJob, fraction: number) => void;
  readonly onFile?: (o: FileOutcome) => void;
}

/** Throws BackfillLockedError when another backfill holds the data folder. */
export async function runRestBackfill(o: RestRunOptions): Promise<RunSummary & { rest: BinanceRest }> {
  const t0 = performance.now();
  const state = BackfillState.open(o.dataDir);
  const rest = new BinanceRest({
    baseUrl: o.restUrl,
    weightBudgetPerMin: o.weightBudgetPerMin,
    ...(o.weightWindowMs === undefined ? {} : { weightWindowMs: o.weightWindowMs }),
    // K2 stores µs; Binance answers in µs when asked (and ms otherwise).
    microseconds: true,
  });
  let seq = 0;
  const write = stagedWriter({
    stagingDir: state.stagingDir,
    writer: BACKFILL_WRITER,
    ...(o.zstdLevel === undefined ? {} : { zstdLevel: o.zstdLevel }),
    seq: () => ++seq,
  });
  const lanes = Math.max(1, Math.min(o.concurrency, o.jobs.length));
  const batches = new BatchPool(lanes);
  const outcomes: FileOutcome[] = [];
  try {
    let next = 0;
    const lane = async () => {
      for (;;) {
        const job = o.jobs[next++];
        if (!job) return;
        o.onStart?.(job);
        const r = await backfillRestDay(job, {
          rest,
          state,
          batchRows: o.batchRows ?? BACKFILL_BATCH_ROWS,
          batches,
          write,
          ...(o.onRows ? { onRows: o.onRows } : {}),
          ...(o.onProgress ? { onProgress: (f: number) => o.onProgress?.(job, f) } : {}),
          ...(o.retryDelayMs ? { retryDelayMs: o.retryDelayMs } : {}),
          ...(o.openDayMarginMs === undefined ? {} : { openDayMarginMs: o.openDayMarginMs }),
        });
        outcomes.push(r);
        o.onFile?.(r);
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    state.close();
  }
  return { ...summarize(outcomes, t0), rest };
}
