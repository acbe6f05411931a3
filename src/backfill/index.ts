/**
 * backfill/: past days from Binance's public archive (src/archive/), or from its REST API
 * (rest-*.ts, for days the archive does not have yet), into K2's Parquet files
 * (src/sink/parquet/), exactly once against what the data folder already stores. Run as its own
 * process by `k2 backfill` (src/cli/backfill.ts); docs/BACKFILL.md says why a second process.
 */

export { BatchPool } from "../sink/parquet/index.ts";
export { backfillFile, type FileOutcome, type FileStatus } from "./file.ts";
export {
  BACKFILL_DATASET,
  BACKFILL_PERIODS,
  BACKFILL_TABLES,
  type BackfillJob,
  type BackfillPeriod,
  type BackfillTable,
  dailyJobsOf,
  daysBetween,
  jobLabel,
  monthlyFileOf,
  type PlanOptions,
  planJobs,
} from "./plan.ts";
export { fileLine, Progress } from "./progress.ts";
export { restDayPath } from "./rest-day.ts";
export { OPEN_DAY_MARGIN_MS, REST_MAX_ATTEMPTS, REST_MAX_RATE_LIMITS, RestDayError } from "./rest-page.ts";
export { type RestRunOptions, runRestBackfill } from "./rest-run.ts";
export { BACKFILL_BATCH_ROWS, type RunOptions, type RunSummary, runBackfill } from "./run.ts";
export { type StageResult, stagedWriter, stageFile } from "./stage.ts";
export { BackfillLockedError, BackfillState, STATE_DIR } from "./state.ts";
export { StoredIds, storedIdsNearDay, storedIdsNearDays } from "./stored.ts";
