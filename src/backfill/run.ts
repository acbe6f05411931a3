/**
 * A backfill run: the jobs (plan.ts) through backfillFile with at most `concurrency` archive
 * files at once, one writer pool (a worker per concurrent file, at most the pool's bound)
 * writing into the staging folder, and a report per file as it finishes.
 */
import { BACKFILL_WRITER } from "../catalog/index.ts";
import { ParquetWriterPool } from "../sink/parquet/index.ts";
import { BatchPool, backfillFile, type FileOutcome, WRITES_IN_FLIGHT } from "./file.ts";
import type { BackfillJob } from "./plan.ts";
import { BackfillState } from "./state.ts";

/** Rows per staged Parquet file: ~25 MB of columns per batch; a BTCUSDT day is a few files. */
export const BACKFILL_BATCH_ROWS = 1 << 19;
/** The writer pool's bound on worker threads. */
const MAX_WORKERS = 8;

export interface RunOptions {
  readonly dataDir: string;
  readonly archiveUrl: string;
  readonly jobs: readonly BackfillJob[];
  readonly concurrency: number;
  readonly batchRows?: number;
  readonly zstdLevel?: number;
  readonly onStart?: (job: BackfillJob) => void;
  readonly onRows?: (n: number) => void;
  readonly onFile?: (o: FileOutcome) => void;
}

export interface RunSummary {
  readonly outcomes: FileOutcome[];
  readonly landed: number;
  readonly alreadyLanded: number;
  readonly failed: number;
  readonly rows: number;
  readonly written: number;
  readonly ms: number;
}

/** Throws BackfillLockedError when another backfill holds the data folder. */
export async function runBackfill(o: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const state = BackfillState.open(o.dataDir);
  const pool = await ParquetWriterPool.start({
    dataDir: state.stagingDir,
    workers: Math.min(MAX_WORKERS, o.concurrency),
    // A writer tag in every name: no backfill file can take a live one's name, and the running
    // owner adopts files by it (catalog/adopt.ts).
    writer: BACKFILL_WRITER,
    maxInFlight: 16,
    ...(o.zstdLevel === undefined ? {} : { zstdLevel: o.zstdLevel }),
  });
  const outcomes: FileOutcome[] = [];
  try {
    let next = 0;
    const ctx = {
      dataDir: o.dataDir,
      root: o.archiveUrl,
      pool,
      state,
      batchRows: o.batchRows ?? BACKFILL_BATCH_ROWS,
      batches: new BatchPool(o.concurrency * (WRITES_IN_FLIGHT + 1)),
      ...(o.onRows ? { onRows: o.onRows } : {}),
    };
    const lane = async () => {
      for (;;) {
        const job = o.jobs[next++];
        if (!job) return;
        o.onStart?.(job);
        const r = await backfillFile(job, ctx);
        outcomes.push(r);
        o.onFile?.(r);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, o.jobs.length)) }, lane));
  } finally {
    await pool.close();
    state.close();
  }
  let rows = 0;
  let written = 0;
  for (const r of outcomes) {
    rows += r.rows;
    written += r.written;
  }
  return {
    outcomes,
    landed: outcomes.filter((r) => r.status === "landed").length,
    alreadyLanded: outcomes.filter((r) => r.status === "already_landed").length,
    failed: outcomes.filter((r) => r.status === "failed").length,
    rows,
    written,
    ms: performance.now() - t0,
  };
}
