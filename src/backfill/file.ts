/**
 * One archive file into visible Parquet, exactly once and never half-written:
 *   1. its CHECKSUM: a file that already landed with this checksum is done (a replaced file has
 *      a new one and is read again);
 *   2. the ids K2 already stores for that day (stored.ts), read now;
 *   3. the zip, SHA-256 verified (src/archive/fetch.ts), inflated and parsed as a stream; rows
 *      whose id is stored are dropped, the others go into staged Parquet files (state.ts) with
 *      the same encoder, schema and atomic commit as live ingest (steps 2–3: stage.ts, in a
 *      worker thread);
 *   4. only when the file was read to its end (CRC-32 and size checked, every line parsed) are
 *      the staged files renamed into the data folder, then the file is noted as landed.
 * Any failure (404, checksum, corrupt zip, malformed line) discards what this file staged.
 *
 * A monthly file is one job like a daily one: its whole month is staged, then committed at once
 * (docs/BACKFILL.md says why), and journaled with one line per day. A daily file of a day whose
 * monthly file landed is skipped before any download, and a monthly file whose days all landed
 * from daily files too.
 */
import { archiveZipPath, fetchChecksum } from "../archive/index.ts";
import { type BackfillJob, monthlyFileOf } from "./plan.ts";
import type { StageResult } from "./stage.ts";
import type { BackfillState } from "./state.ts";

export interface BackfillContext {
  /** Archive root (K2_ARCHIVE_URL). */
  readonly root: string;
  readonly state: BackfillState;
  /** Steps 2–3 (stage.ts), wherever they run. */
  stage(job: BackfillJob): Promise<StageResult>;
}

/** `fell_back`: a monthly file failed under `--period auto`; its days are read from daily files. */
export type FileStatus = "landed" | "already_landed" | "failed" | "fell_back";

export interface FileOutcome {
  readonly job: BackfillJob;
  readonly status: FileStatus;
  /** Rows in the archive file (0 when it could not be read). */
  readonly rows: number;
  /** Rows newly stored. */
  readonly written: number;
  /** Rows whose id K2 already stored (live ingest or an earlier run). */
  readonly alreadyStored: number;
  readonly files: number;
  readonly sha256?: string;
  readonly zipBytes?: number;
  readonly error?: Error;
  readonly ms: number;
  /** `rest` for a day read from the REST API (rest-day.ts); absent for an archive file. */
  readonly source?: "rest";
  /** REST: the day was over at the source (false: read up to REST's newest row, `throughUs`). */
  readonly complete?: boolean;
  readonly throughUs?: number;
  /** REST: ids inside the day that REST skipped (exchange-side discontinuities). */
  readonly missingAtSource?: number;
  /** already_landed: the day's monthly file landed, or (a monthly job) every day's daily file. */
  readonly coveredBy?: "monthly" | "daily";
}

export async function backfillFile(job: BackfillJob, ctx: BackfillContext): Promise<FileOutcome> {
  const t0 = performance.now();
  const done = (o: Omit<FileOutcome, "job" | "ms">): FileOutcome => ({
    job,
    ms: performance.now() - t0,
    ...o,
  });
  const failed = (error: Error, sha256?: string) =>
    done({
      status: "failed",
      rows: 0,
      written: 0,
      alreadyStored: 0,
      files: 0,
      error,
      ...(sha256 ? { sha256 } : {}),
    });
  const path = archiveZipPath(job.file);
  const skip = (coveredBy: "monthly" | "daily") =>
    done({ status: "already_landed", rows: 0, written: 0, alreadyStored: 0, files: 0, coveredBy });
  if (job.file.period === "daily" && ctx.state.landedWhole(archiveZipPath(monthlyFileOf(job.file))))
    return skip("monthly");
  if (
    job.file.period === "monthly" &&
    job.days.every((date) => ctx.state.landedWhole(archiveZipPath({ ...job.file, period: "daily", date })))
  )
    return skip("daily");
  let sha256: string;
  try {
    sha256 = await fetchChecksum(job.file, { root: ctx.root });
  } catch (e) {
    return failed(e as Error);
  }
  if (ctx.state.landed(path, sha256))
    return done({ status: "already_landed", rows: 0, written: 0, alreadyStored: 0, files: 0, sha256 });
  const r = await ctx.stage(job);
  if (!r.ok) {
    ctx.state.discard(r.staged);
    return failed(r.error, sha256);
  }
  try {
    ctx.state.commit(r.staged);
    const line = { table: job.table, symbol: job.symbol, path, sha256: r.sha256 };
    // One line per day partition (the owner adopts by day); the last one is the file's own.
    const last = job.days.length - 1;
    ctx.state.noteLandedLines(
      job.days.map((date, i) =>
        i === last
          ? { ...line, date, rows: r.rows, written: r.written }
          : {
              ...line,
              date,
              rows: r.writtenByDate[date] ?? 0,
              written: r.writtenByDate[date] ?? 0,
              part: true,
            },
      ),
    );
  } catch (e) {
    return failed(e as Error, r.sha256);
  }
  return done({
    status: "landed",
    rows: r.rows,
    written: r.written,
    alreadyStored: r.alreadyStored,
    files: r.staged.length,
    sha256: r.sha256,
    zipBytes: r.zipBytes,
  });
}
