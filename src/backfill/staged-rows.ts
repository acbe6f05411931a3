/**
 * Where one archive file's parsed rows go (stage.ts): ids checked to rise strictly, rows K2
 * already stores dropped, the rest into one batch per UTC day, each full batch staged as a file.
 *
 * The CSV parser writes into `window`: a run of free slots of the batch the next rows most
 * likely belong to (sink/parquet batch-window.ts), so in the usual case (rising ids, none stored,
 * the same day) a flush only checks the rows and advances the batch's count: no copy per row.
 * From the first row that breaks the usual case, the rest of the flush is copied out and taken
 * row by row (`appendRow`), as every row was before.
 */
import { ArchiveError } from "../archive/index.ts";
import { allocRowColumns, type RowColumns } from "../model/index.ts";
import {
  AppendStatus,
  appendRow,
  type BatchPool,
  batchWindow,
  copyOutOfWindow,
  dayOfUs,
  type FileInfo,
  type TableBatch,
} from "../sink/parquet/index.ts";
import { type BackfillJob, jobLabel } from "./plan.ts";
import type { StoredIds } from "./stored.ts";

export interface StagedRowsEnv {
  readonly batchRows: number;
  readonly batches: BatchPool;
  /** Encode and commit one batch as a staged file; the batch is empty and reusable after. */
  write(b: TableBatch): FileInfo;
}

export class StagedRows {
  readonly staged: string[] = [];
  /** Rows written per partition date (a monthly file spans a month of partitions). */
  readonly writtenByDate: Record<string, number> = {};
  written = 0;
  alreadyStored = 0;
  readonly #open = new Map<number, TableBatch>();
  readonly #monthly: boolean;
  readonly #scratch: RowColumns;
  /** Rows taken one by one: a flush's rest, or every row before the first day is known. */
  readonly #spill: RowColumns;
  #window: RowColumns;
  /** The batch `#window` lies in, from slot `#at` (undefined: the window is `#spill`). */
  #target: TableBatch | undefined;
  #at = 0;
  #lastId = -1;
  /** The day of the last row taken: where the next window goes. */
  #day = -1;
  /** Monthly files: the latest day seen; batches of earlier days are staged. */
  #newestDay = -1;

  constructor(
    private readonly job: BackfillJob,
    private readonly env: StagedRowsEnv,
    private readonly stored: StoredIds,
    /** Names the file in errors. */
    private readonly label: string,
    slots: number,
  ) {
    this.#monthly = job.file.period === "monthly";
    this.#scratch = allocRowColumns(slots);
    this.#spill = allocRowColumns(slots);
    this.#window = this.#spill;
  }

  /** Where the parser writes its next rows (slots 0..capacity-1). */
  get window(): RowColumns {
    return this.#window;
  }

  /** Window slots 0..count-1 hold parsed rows: take them, then move the window on. */
  flush(count: number): void {
    const b = this.#target;
    let k = 0;
    if (b) {
      const w = this.#window;
      const ids = w.id;
      const times = w.event_time_us;
      const lo = b.dayStartUs;
      const hi = b.dayEndUs;
      let last = this.#lastId;
      for (; k < count; k++) {
        const id = ids[k]!;
        const e = times[k]!;
        if (id <= last || e < lo || e >= hi || this.stored.has(id)) break;
        last = id;
      }
      this.#lastId = last;
      b.rows = this.#at + k;
      if (k < count) copyOutOfWindow(w, k, count - k, this.#spill);
    }
    const rest = count - k;
    const spill = this.#spill;
    for (let i = 0; i < rest; i++) {
      const id = spill.id[i]!;
      // Binance archive ids rise strictly: a file where they do not is refused whole, so no id of
      // one file can be written twice.
      if (id <= this.#lastId)
        throw new ArchiveError(
          "malformed_line",
          `${this.label}: id ${id} after ${this.#lastId} (expected strictly rising ids)`,
        );
      this.#lastId = id;
      if (this.stored.has(id)) this.alreadyStored++;
      else this.#add(spill, i);
    }
    this.#moveWindow();
  }

  /** Stage every open batch: the file was read to its end. */
  finish(): void {
    for (const b of [...this.#open.values()]) this.#cut(b);
  }

  /** Give the open batches back unstaged: the file failed. */
  abandon(): void {
    for (const b of this.#open.values()) this.env.batches.give({ ...b, rows: 0 });
    this.#open.clear();
  }

  #moveWindow(): void {
    if (this.#day < 0) return; // no row taken yet: the spill stays the window
    let b = this.#batchOf(this.#day);
    if (b.rows === b.capacity) {
      this.#cut(b);
      b = this.#batchOf(this.#day);
    }
    this.#target = b;
    this.#at = b.rows;
    this.#window = batchWindow(b, b.rows, Math.min(this.#spill.capacity, b.capacity - b.rows), this.#scratch);
  }

  #batchOf(day: number): TableBatch {
    let b = this.#open.get(day);
    if (!b) {
      b = this.env.batches.take(this.job, day, this.env.batchRows);
      this.#open.set(day, b);
    }
    return b;
  }

  #cut(b: TableBatch): void {
    this.#open.delete(dayOfUs(b.dayStartUs));
    if (this.#target === b) this.#target = undefined;
    const n = b.rows;
    if (n > 0) {
      this.staged.push(this.env.write(b).path);
      this.written += n;
      this.writtenByDate[b.date] = (this.writtenByDate[b.date] ?? 0) + n;
    }
    this.env.batches.give(b);
  }

  /** One row into the batch of its UTC day (a stray row goes to its own day, as live would put it). */
  #add(rows: RowColumns, slot: number): void {
    const day = dayOfUs(rows.event_time_us[slot]!);
    // A monthly file's rows run through ~30 days: a day's batch is staged as soon as rows of a
    // later day arrive, so one batch per file is open, not one per day (~25 MB each).
    if (this.#monthly && day > this.#newestDay) {
      for (const [d, ob] of this.#open) if (d < day) this.#cut(ob);
      this.#newestDay = day;
    }
    this.#day = day;
    let b = this.#batchOf(day);
    let st = appendRow(b, rows, slot);
    if (st === AppendStatus.full) {
      this.#cut(b);
      b = this.#batchOf(day);
      st = appendRow(b, rows, slot);
    }
    if (st !== AppendStatus.ok)
      throw new Error(`${jobLabel(this.job)}: row refused by the batch (status ${st})`);
  }
}
