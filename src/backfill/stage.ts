/**
 * Steps 2–3 of one archive file (file.ts has the whole story): the ids already stored, then the
 * zip — SHA-256 verified, inflated and parsed as a stream — into staged Parquet files; rows whose
 * id is stored are dropped. Runs inside a stage worker (stage-worker.ts), one per file being
 * read, so inflate, parse and encode of concurrent files use every core; the main thread only
 * plans, commits and reports. Returns the staged paths either way: the caller commits or
 * discards them.
 */
import {
  ArchiveCsvParser,
  archiveCsvName,
  type CsvOutput,
  fetchVerifiedZip,
  inflateZip,
} from "../archive/index.ts";
import { type FileInfo, nodeParquetFs, type TableBatch, writeJob } from "../sink/parquet/index.ts";
import { type BackfillJob, jobLabel } from "./plan.ts";
import { StagedRows, type StagedRowsEnv } from "./staged-rows.ts";
import { storedIdsNearDays } from "./stored.ts";

/** Rows the CSV parser hands on at once. */
const PARSE_SLOTS = 8192;

export interface StageEnv extends StagedRowsEnv {
  readonly dataDir: string;
  /** Archive root (K2_ARCHIVE_URL). */
  readonly root: string;
  /** Where a zip too big for memory is written while it is read: the run's staging folder. */
  readonly stagingDir: string;
  /** Largest zip held in memory (default ARCHIVE_IN_MEMORY_ZIP_BYTES in archive/fetch.ts). */
  readonly inMemoryZipBytes?: number;
  /** Rows parsed, as they are parsed (for the progress bar). */
  readonly onRows?: (n: number) => void;
}

export type StageResult =
  | {
      readonly ok: true;
      readonly sha256: string;
      readonly zipBytes: number;
      readonly rows: number;
      readonly written: number;
      readonly alreadyStored: number;
      readonly staged: string[];
      /** Rows written per partition date (a monthly file spans a month of partitions). */
      readonly writtenByDate: Record<string, number>;
    }
  | { readonly ok: false; readonly error: Error; readonly staged: string[] };

/**
 * Encode and commit one batch as a staged file under `stagingDir`, synchronously, with the live
 * writer's encoder and atomic commit (sink/parquet writeJob); the batch is empty after. Names
 * carry the writer tag and `seq()`, unique within the run (the run's start time is in them too).
 */
export function stagedWriter(o: {
  readonly stagingDir: string;
  readonly writer: string;
  readonly zstdLevel?: number;
  readonly seq: () => number;
}): (b: TableBatch) => FileInfo {
  const writtenAtMs = Date.now();
  return (b) => {
    const info = writeJob(
      nodeParquetFs,
      {
        dataDir: o.stagingDir,
        table: b.table,
        exchange: b.exchange,
        symbol: b.symbol,
        date: b.date,
        rows: b.rows,
        columns: b.columns,
        writtenAtMs,
        seq: o.seq(),
        writer: o.writer,
      },
      o.zstdLevel === undefined ? {} : { zstdLevel: o.zstdLevel },
    );
    b.rows = 0;
    return info;
  };
}

export async function stageFile(job: BackfillJob, env: StageEnv): Promise<StageResult> {
  let rows: StagedRows | undefined;
  try {
    const stored = await storedIdsNearDays(env.dataDir, job.table, job.symbol, job.days);
    using zip = await fetchVerifiedZip(job.file, {
      root: env.root,
      tempDir: env.stagingDir,
      ...(env.inMemoryZipBytes === undefined ? {} : { inMemoryMaxBytes: env.inMemoryZipBytes }),
    });
    const into = new StagedRows(job, env, stored, zip.url, PARSE_SLOTS);
    rows = into;
    const out: Extract<CsvOutput, { rows: unknown }> = {
      dataset: job.file.dataset as "trades" | "aggTrades",
      rows: into.window,
      flush(count) {
        into.flush(count);
        out.rows = into.window;
        env.onRows?.(count);
      },
    };
    const parser = new ArchiveCsvParser(out, job.symbolId, Date.now() * 1000, zip.url);
    await inflateZip(zip.source, archiveCsvName(job.file), zip.url, (chunk) => parser.push(chunk));
    parser.end();
    into.finish();
    if (into.written + into.alreadyStored !== parser.rowsParsed)
      throw new Error(
        `${jobLabel(job)}: ${parser.rowsParsed} rows parsed, ${into.written + into.alreadyStored} accounted for`,
      );
    return {
      ok: true,
      sha256: zip.sha256,
      zipBytes: zip.size,
      rows: parser.rowsParsed,
      written: into.written,
      alreadyStored: into.alreadyStored,
      staged: into.staged,
      writtenByDate: into.writtenByDate,
    };
  } catch (e) {
    rows?.abandon();
    return { ok: false, error: e instanceof Error ? e : new Error(String(e)), staged: rows?.staged ?? [] };
  }
}
