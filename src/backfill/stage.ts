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
  ArchiveError,
  archiveCsvName,
  type CsvOutput,
  fetchVerifiedZip,
  inflateZip,
} from "../archive/index.ts";
import { allocRowColumns, type RowColumns } from "../model/index.ts";
import {
  AppendStatus,
  appendRow,
  createBatch,
  dateOfDay,
  dayOfUs,
  type FileInfo,
  nodeParquetFs,
  type TableBatch,
  US_PER_DAY,
  writeJob,
} from "../sink/parquet/index.ts";
import { type BackfillJob, jobLabel } from "./plan.ts";
import { storedIdsNearDays } from "./stored.ts";

/** Rows the CSV parser hands on at once. */
const PARSE_SLOTS = 8192;

export interface StageEnv {
  readonly dataDir: string;
  /** Archive root (K2_ARCHIVE_URL). */
  readonly root: string;
  /** Rows per staged Parquet file. */
  readonly batchRows: number;
  readonly batches: BatchPool;
  /** Encode and commit one batch as a staged file; the batch is empty and reusable after. */
  write(b: TableBatch): FileInfo;
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

/**
 * Batches for the next file of the same worker: a batch's columns are ~25 MB at the default size
 * and zeroed when allocated, which a new allocation per file showed as ~10 % of the time in
 * native-bench/backfill.ts. Bounded: beyond `max` a batch is dropped.
 */
export class BatchPool {
  readonly #free: TableBatch[] = [];
  constructor(readonly max: number) {}

  /** A batch for (table, symbol, day) of `capacity` rows, reused when one fits. */
  take(job: BackfillJob, day: number, capacity: number): TableBatch {
    const i = this.#free.findIndex((b) => b.table === job.table && b.capacity === capacity);
    if (i < 0)
      return createBatch({ table: job.table, symbol: job.symbol, symbolId: job.symbolId, day }, capacity);
    const b = this.#free.splice(i, 1)[0]!;
    // Same table and size: the columns fit; only the key changes (createBatch's fields, re-set).
    return {
      ...b,
      symbol: job.symbol,
      symbolId: job.symbolId,
      date: dateOfDay(day),
      dayStartUs: day * US_PER_DAY,
      dayEndUs: (day + 1) * US_PER_DAY,
      rows: 0,
      writing: false,
    };
  }

  give(b: TableBatch): void {
    if (this.#free.length < this.max) this.#free.push(b);
  }
}

export async function stageFile(job: BackfillJob, env: StageEnv): Promise<StageResult> {
  const staged: string[] = [];
  const open = new Map<number, TableBatch>();
  const writtenByDate: Record<string, number> = {};
  let written = 0;
  const cut = (b: TableBatch) => {
    open.delete(dayOfUs(b.dayStartUs));
    if (b.rows === 0) return env.batches.give(b);
    const n = b.rows;
    staged.push(env.write(b).path);
    written += n;
    writtenByDate[b.date] = (writtenByDate[b.date] ?? 0) + n;
    env.batches.give(b);
  };
  // A monthly file's rows run through ~30 days: a day's batch is cut as soon as rows of a later
  // day arrive, so one batch per file is open, not one per day (~25 MB each at the default size).
  const monthly = job.file.period === "monthly";
  let lastDay = -1;
  /** One batch per UTC day of the rows' event time (a stray row goes to its own day, as live would put it). */
  const add = (rows: RowColumns, slot: number) => {
    const day = dayOfUs(rows.event_time_us[slot]!);
    if (monthly && day > lastDay) {
      for (const [d, ob] of open) if (d < day) cut(ob);
      lastDay = day;
    }
    let b = open.get(day);
    if (!b) {
      b = env.batches.take(job, day, env.batchRows);
      open.set(day, b);
    }
    let st = appendRow(b, rows, slot);
    if (st === AppendStatus.full) {
      cut(b);
      b = env.batches.take(job, day, env.batchRows);
      open.set(day, b);
      st = appendRow(b, rows, slot);
    }
    if (st !== AppendStatus.ok) throw new Error(`${jobLabel(job)}: row refused by the batch (status ${st})`);
  };
  try {
    const stored = await storedIdsNearDays(env.dataDir, job.table, job.symbol, job.days);
    const zip = await fetchVerifiedZip(job.file, { root: env.root });
    const rows = allocRowColumns(PARSE_SLOTS);
    let lastId = -1;
    let alreadyStored = 0;
    const out: CsvOutput = {
      dataset: job.file.dataset as "trades" | "aggTrades",
      rows,
      flush(count) {
        for (let i = 0; i < count; i++) {
          const id = rows.id[i]!;
          // Binance archive ids rise strictly: a file where they do not is refused whole, so no
          // id of one file can be written twice.
          if (id <= lastId)
            throw new ArchiveError(
              "malformed_line",
              `${zip.url}: id ${id} after ${lastId} (expected strictly rising ids)`,
            );
          lastId = id;
          if (stored.has(id)) alreadyStored++;
          else add(rows, i);
        }
        env.onRows?.(count);
      },
    };
    const parser = new ArchiveCsvParser(out, job.symbolId, Date.now() * 1000, zip.url);
    await inflateZip(zip.bytes, archiveCsvName(job.file), zip.url, (chunk) => parser.push(chunk));
    parser.end();
    for (const b of [...open.values()]) cut(b);
    if (written + alreadyStored !== parser.rowsParsed)
      throw new Error(
        `${jobLabel(job)}: ${parser.rowsParsed} rows parsed, ${written + alreadyStored} accounted for`,
      );
    return {
      ok: true,
      sha256: zip.sha256,
      zipBytes: zip.bytes.length,
      rows: parser.rowsParsed,
      written,
      alreadyStored,
      staged,
      writtenByDate,
    };
  } catch (e) {
    for (const b of open.values()) env.batches.give({ ...b, rows: 0 });
    return { ok: false, error: e instanceof Error ? e : new Error(String(e)), staged };
  }
}
