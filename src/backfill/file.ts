/**
 * One archive file into visible Parquet, exactly once and never half-written:
 *   1. its CHECKSUM: a file that already landed with this checksum is done (a replaced file has
 *      a new one and is read again);
 *   2. the ids K2 already stores for that day (stored.ts), read now;
 *   3. the zip, SHA-256 verified (src/archive/fetch.ts), inflated and parsed as a stream; rows
 *      whose id is stored are dropped, the others go into staged Parquet files (state.ts) through
 *      the same writer pool, schema and atomic commit as live ingest;
 *   4. only when the file was read to its end (CRC-32 and size checked, every line parsed) are
 *      the staged files renamed into the data folder, then the file is noted as landed.
 * Any failure (404, checksum, corrupt zip, malformed line) discards what this file staged.
 */
import {
  ArchiveCsvParser,
  ArchiveError,
  archiveCsvName,
  archiveZipPath,
  type CsvOutput,
  fetchChecksum,
  fetchVerifiedZip,
  inflateZip,
} from "../archive/index.ts";
import { allocRowColumns } from "../model/index.ts";
import {
  AppendStatus,
  appendRow,
  createBatch,
  dateOfDay,
  dayOfUs,
  type ParquetWriterPool,
  type TableBatch,
  US_PER_DAY,
} from "../sink/parquet/index.ts";
import { type BackfillJob, jobLabel } from "./plan.ts";
import type { BackfillState } from "./state.ts";
import { storedIdsNearDay } from "./stored.ts";

/** Rows the CSV parser hands on at once. */
const PARSE_SLOTS = 8192;
/** Staged Parquet writes one archive file may have in flight: bounds its memory to this many batches + 1. */
export const WRITES_IN_FLIGHT = 2;

export interface BackfillContext {
  readonly dataDir: string;
  /** Archive root (K2_ARCHIVE_URL). */
  readonly root: string;
  /** Writes into the staging folder (state.stagingDir). */
  readonly pool: ParquetWriterPool;
  readonly state: BackfillState;
  /** Rows per staged Parquet file. */
  readonly batchRows: number;
  /** Batches shared by the run's files. */
  readonly batches: BatchPool;
  /** Rows parsed, as they are parsed (for the progress bar). */
  readonly onRows?: (n: number) => void;
}

/**
 * Batches whose writes finished, for the next file of the run: a batch's columns are ~25 MB at
 * the default size and zeroed when allocated, which a new allocation per file showed as ~10 %
 * of the main thread in native-bench/backfill.ts. Bounded: a batch beyond `max` is dropped.
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
    if (!b.writing && this.#free.length < this.max) this.#free.push(b);
  }
}

export type FileStatus = "landed" | "already_landed" | "failed";

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
}

export async function backfillFile(job: BackfillJob, ctx: BackfillContext): Promise<FileOutcome> {
  const t0 = performance.now();
  const done = (o: Omit<FileOutcome, "job" | "ms">): FileOutcome => ({
    job,
    ms: performance.now() - t0,
    ...o,
  });
  const opts = { root: ctx.root };
  const path = archiveZipPath(job.file);
  let sha256: string;
  try {
    sha256 = await fetchChecksum(job.file, opts);
  } catch (e) {
    return done({ status: "failed", rows: 0, written: 0, alreadyStored: 0, files: 0, error: e as Error });
  }
  if (ctx.state.landed(path, sha256))
    return done({ status: "already_landed", rows: 0, written: 0, alreadyStored: 0, files: 0, sha256 });

  const staged: string[] = [];
  const writer = new StagedWriter(job, ctx, staged);
  try {
    const stored = await storedIdsNearDay(ctx.dataDir, job.table, job.symbol, job.date);
    const zip = await fetchVerifiedZip(job.file, opts);
    sha256 = zip.sha256;
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
          else writer.add(rows, i);
        }
        ctx.onRows?.(count);
      },
    };
    const parser = new ArchiveCsvParser(out, job.symbolId, Date.now() * 1000, zip.url);
    await inflateZip(zip.bytes, archiveCsvName(job.file), zip.url, (chunk) => {
      parser.push(chunk);
      return writer.backpressure();
    });
    parser.end();
    await writer.finish();
    const written = writer.rows;
    if (written + alreadyStored !== parser.rowsParsed)
      throw new Error(
        `${jobLabel(job)}: ${parser.rowsParsed} rows parsed, ${written + alreadyStored} accounted for`,
      );
    ctx.state.commit(staged);
    ctx.state.noteLanded({ path, sha256, rows: parser.rowsParsed, written });
    return done({
      status: "landed",
      rows: parser.rowsParsed,
      written,
      alreadyStored,
      files: staged.length,
      sha256,
      zipBytes: zip.bytes.length,
    });
  } catch (e) {
    await writer.abandon();
    ctx.state.discard(staged);
    return done({
      status: "failed",
      rows: 0,
      written: 0,
      alreadyStored: 0,
      files: 0,
      sha256,
      error: e as Error,
    });
  }
}

/**
 * Rows → staged Parquet files, one batch per UTC day of the rows' event time (an archive day's
 * rows are one day; a stray row lands in its own day's partition, as live ingest would put it).
 */
class StagedWriter {
  rows = 0;
  readonly #open = new Map<number, TableBatch>();
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;

  constructor(
    readonly job: BackfillJob,
    readonly ctx: BackfillContext,
    readonly staged: string[],
  ) {}

  add(rows: Parameters<typeof appendRow>[1], slot: number): void {
    const day = dayOfUs(rows.event_time_us[slot]!);
    let b = this.#open.get(day) ?? this.#take(day);
    let st = appendRow(b, rows, slot);
    if (st === AppendStatus.full) {
      this.#write(b);
      b = this.#take(day);
      st = appendRow(b, rows, slot);
    }
    if (st !== AppendStatus.ok)
      throw new Error(`${jobLabel(this.job)}: row refused by the batch (status ${st})`);
    this.rows++;
  }

  /** Resolves when fewer than WRITES_IN_FLIGHT writes are pending (rejects if one failed). */
  async backpressure(): Promise<void> {
    while (this.#inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(this.#inFlight);
    if (this.#error) throw this.#error;
  }

  /** Write what is open and wait for every write. */
  async finish(): Promise<void> {
    for (const b of [...this.#open.values()]) if (b.rows > 0) this.#write(b);
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    if (this.#error) throw this.#error;
  }

  /** Wait for writes in flight (their files go with the rest of `staged`). */
  async abandon(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #take(day: number): TableBatch {
    const b = this.ctx.batches.take(this.job, day, this.ctx.batchRows);
    this.#open.set(day, b);
    return b;
  }

  #write(b: TableBatch): void {
    const day = dayOfUs(b.dayStartUs);
    if (this.#open.get(day) === b) this.#open.delete(day);
    const p = this.ctx.pool.write(b).then(
      (info) => {
        this.staged.push(info.path);
        this.ctx.batches.give(b);
      },
      (e: unknown) => {
        this.#error ??= e;
      },
    );
    const tracked = p.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}
