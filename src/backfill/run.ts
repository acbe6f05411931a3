/**
 * A backfill run: the jobs (plan.ts) through backfillFile with at most `concurrency` archive
 * files at once, each lane with its own stage worker (stage-worker.ts: fetch, inflate, parse and
 * encode of one file on one thread, so concurrent files use every core), and a report per file
 * as it finishes. The main thread plans, commits, journals and reports. A monthly file that
 * fails under `--period auto` is reported as `fell_back` and its days join the queue as daily
 * files, right where the lanes take their next job.
 */
import { BACKFILL_WRITER } from "../catalog/index.ts";
import { backfillFile, type FileOutcome } from "./file.ts";
import { type BackfillJob, dailyJobsOf } from "./plan.ts";
import type { StageResult } from "./stage.ts";
import { errorFromData, type StageInit, type StageReply } from "./stage-protocol.ts";
import { BackfillState } from "./state.ts";

/** Rows per staged Parquet file: ~25 MB of columns per batch; a BTCUSDT day is a few files. */
export const BACKFILL_BATCH_ROWS = 1 << 19;

export interface RunOptions {
  readonly dataDir: string;
  readonly archiveUrl: string;
  readonly jobs: readonly BackfillJob[];
  readonly concurrency: number;
  readonly batchRows?: number;
  readonly zstdLevel?: number;
  /** Largest zip held in memory, a larger one is read from the staging folder (archive/fetch.ts). */
  readonly inMemoryZipBytes?: number;
  readonly onStart?: (job: BackfillJob) => void;
  readonly onRows?: (n: number) => void;
  readonly onFile?: (o: FileOutcome) => void;
  /** Jobs added to the run (a failed monthly file's days): a progress bar's total grows by `n`. */
  readonly onMoreJobs?: (n: number) => void;
}

export interface RunSummary {
  readonly outcomes: FileOutcome[];
  readonly landed: number;
  readonly alreadyLanded: number;
  readonly failed: number;
  /** Monthly files that failed and were read from their daily files instead. */
  readonly fellBack: number;
  readonly rows: number;
  readonly written: number;
  readonly ms: number;
}

const WORKER_URL = new URL("./stage-worker.ts", import.meta.url).href;

/** One lane's worker: one file at a time; a worker that dies fails its file and is replaced. */
class StageLane {
  #worker: Worker;
  #pending: ((r: StageResult) => void) | undefined;

  constructor(
    readonly init: StageInit,
    readonly onRows?: (n: number) => void,
  ) {
    this.#worker = this.#spawn();
  }

  #spawn(): Worker {
    const w = new Worker(WORKER_URL);
    w.onmessage = (ev: MessageEvent<StageReply>) => {
      const m = ev.data;
      if ("rows" in m) return this.onRows?.(m.rows);
      const resolve = this.#pending;
      this.#pending = undefined;
      resolve?.(
        m.result.ok ? m.result : { ok: false, staged: m.result.staged, error: errorFromData(m.result.error) },
      );
    };
    w.onerror = (ev) => {
      const resolve = this.#pending;
      this.#pending = undefined;
      this.#worker = this.#spawn();
      // What it staged is unknown here: the run's staging folder is removed at its end anyway.
      resolve?.({ ok: false, staged: [], error: new Error(`stage worker died: ${ev.message}`) });
    };
    w.postMessage({ init: this.init });
    return w;
  }

  stage(job: BackfillJob): Promise<StageResult> {
    return new Promise((resolve) => {
      this.#pending = resolve;
      this.#worker.postMessage({ job });
    });
  }

  close(): void {
    this.#worker.terminate();
  }
}

/** Throws BackfillLockedError when another backfill holds the data folder. */
export async function runBackfill(o: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const state = BackfillState.open(o.dataDir);
  const workers = Math.max(1, Math.min(o.concurrency, o.jobs.length));
  const lanes = Array.from(
    { length: workers },
    (_, index): StageLane =>
      new StageLane(
        {
          dataDir: o.dataDir,
          stagingDir: state.stagingDir,
          root: o.archiveUrl,
          batchRows: o.batchRows ?? BACKFILL_BATCH_ROWS,
          ...(o.zstdLevel === undefined ? {} : { zstdLevel: o.zstdLevel }),
          ...(o.inMemoryZipBytes === undefined ? {} : { inMemoryZipBytes: o.inMemoryZipBytes }),
          index,
          workers,
          // A writer tag in every name: no backfill file can take a live one's name, and the
          // running owner adopts files by it (catalog/adopt.ts).
          writer: BACKFILL_WRITER,
        },
        o.onRows,
      ),
  );
  const outcomes: FileOutcome[] = [];
  try {
    const queue = [...o.jobs];
    let next = 0;
    const lane = async (l: StageLane) => {
      for (;;) {
        const job = queue[next++];
        if (!job) return;
        o.onStart?.(job);
        let r = await backfillFile(job, { root: o.archiveUrl, state, stage: (j) => l.stage(j) });
        if (r.status === "failed" && job.fallback) {
          const days = dailyJobsOf(job);
          queue.splice(next, 0, ...days);
          o.onMoreJobs?.(days.length);
          r = { ...r, status: "fell_back" };
        }
        outcomes.push(r);
        o.onFile?.(r);
      }
    };
    await Promise.all(lanes.map(lane));
  } finally {
    for (const l of lanes) l.close();
    state.close();
  }
  return summarize(outcomes, t0);
}

/** The run's totals from its outcomes (archive and REST runs alike). */
export function summarize(outcomes: FileOutcome[], t0: number): RunSummary {
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
    fellBack: outcomes.filter((r) => r.status === "fell_back").length,
    rows,
    written,
    ms: performance.now() - t0,
  };
}
