/**
 * Persists dead-letter entries to rotating NDJSON files (format.ts) under a total size cap.
 * Dead letters are evidence, not data: lines are buffered (bounded) and written on flush(),
 * fsynced only when a file is sealed or on close, and the oldest files are deleted (and counted)
 * when the folder outgrows maxTotalBytes. A failing disk never throws: lines stay buffered,
 * the error is reported once, and when the buffer is full entries are refused and counted.
 */
import { ErrorLatch, type SinkError } from "../wal/errors.ts";
import { nodeSinkFs, type SinkFs } from "../wal/fs.ts";
import { type DlqEntry, dlqFileName, encodeDlqLine, parseDlqFileName } from "./format.ts";

export interface DlqPersisterOptions {
  /** `<dataDir>/dlq`; created when missing. */
  readonly dir: string;
  /** Seal the active file at the first flush after it reaches this size… */
  readonly maxFileBytes?: number;
  /** …or this age, so an operator finds recent entries in a closed file. */
  readonly maxFileAgeMs?: number;
  /** Oldest files are deleted while the folder is bigger than this (≥ 2 × maxFileBytes). */
  readonly maxTotalBytes?: number;
  /** Lines waiting for a flush; beyond this, append refuses. */
  readonly maxBufferedBytes?: number;
  /** > 0: an unref'd timer flushes; 0: the owner calls flush(). */
  readonly flushIntervalMs?: number;
  readonly fs?: SinkFs;
  readonly nowMs?: () => number;
  /** Called once per new error condition, not per retry. */
  readonly onError?: (err: SinkError) => void;
}

export const DLQ_DEFAULTS = {
  maxFileBytes: 8 * 1024 * 1024,
  maxFileAgeMs: 60 * 60_000,
  maxTotalBytes: 256 * 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  flushIntervalMs: 0,
} as const;

/** Reason labels are status names, a small set; anything past this many is counted as "other". */
export const MAX_REASONS = 64;

export interface DlqCounts {
  /** Entries accepted, by status name (reason). */
  readonly accepted: Readonly<Record<string, number>>;
  /** Entries refused (buffer full while writes fail, or one line over the buffer), by reason. */
  readonly refused: Readonly<Record<string, number>>;
  /** Files deleted to respect maxTotalBytes, and their bytes. */
  readonly filesDeleted: number;
  readonly bytesDeleted: number;
  /** On disk now, and still waiting in the buffer. */
  readonly files: number;
  readonly bytes: number;
  readonly bufferedBytes: number;
}

function bump(m: Map<string, number>, reason: string): void {
  const key = m.has(reason) || m.size < MAX_REASONS ? reason : "other";
  m.set(key, (m.get(key) ?? 0) + 1);
}

export class DlqPersister {
  readonly #dir: string;
  readonly #fs: SinkFs;
  readonly #now: () => number;
  readonly #errors: ErrorLatch;
  readonly #maxFileBytes: number;
  readonly #maxFileAgeMs: number;
  readonly #maxTotalBytes: number;
  readonly #maxBufferedBytes: number;
  /** Closed files, oldest first: [file seq, bytes]. */
  readonly #sealed: [number, number][] = [];
  #fd = -1;
  #fileSeq: number;
  #fileBytes = 0;
  #fileOpenedAt = 0;
  #pending: string[] = [];
  #pendingBytes = 0;
  #carry: Buffer | null = null; // joined lines being written, possibly partly
  #carryOff = 0;
  readonly #accepted = new Map<string, number>();
  readonly #refused = new Map<string, number>();
  #filesDeleted = 0;
  #bytesDeleted = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  static open(opts: DlqPersisterOptions): DlqPersister {
    return new DlqPersister(opts);
  }

  private constructor(opts: DlqPersisterOptions) {
    const d = DLQ_DEFAULTS;
    this.#dir = opts.dir;
    this.#fs = opts.fs ?? nodeSinkFs;
    this.#now = opts.nowMs ?? (() => performance.now());
    this.#errors = new ErrorLatch(opts.onError);
    this.#maxFileBytes = opts.maxFileBytes ?? d.maxFileBytes;
    this.#maxFileAgeMs = opts.maxFileAgeMs ?? d.maxFileAgeMs;
    this.#maxTotalBytes = opts.maxTotalBytes ?? d.maxTotalBytes;
    this.#maxBufferedBytes = opts.maxBufferedBytes ?? d.maxBufferedBytes;
    if (!(this.#maxFileBytes >= 1024 && this.#maxTotalBytes >= 2 * this.#maxFileBytes))
      throw new RangeError(
        `DLQ needs maxFileBytes ≥ 1024 and maxTotalBytes ≥ 2 × maxFileBytes, got ${this.#maxFileBytes} and ${this.#maxTotalBytes}`,
      );
    this.#fs.mkdirp(this.#dir);
    let last = 0;
    const found: [number, string][] = [];
    for (const name of this.#fs.readdir(this.#dir)) {
      const seq = parseDlqFileName(name);
      if (seq !== null) found.push([seq, name]);
    }
    for (const [seq, name] of found.sort((a, b) => a[0] - b[0])) {
      const fd = this.#fs.open(`${this.#dir}/${name}`, false, false);
      this.#sealed.push([seq, this.#fs.size(fd)]);
      this.#fs.close(fd);
      last = seq;
    }
    // Never append to an earlier run's file: its last line may be torn, and must stay its last.
    this.#fileSeq = last + 1;
    this.#enforceCap();
    const flushMs = opts.flushIntervalMs ?? d.flushIntervalMs;
    if (flushMs > 0) {
      this.#timer = setInterval(() => this.flush(), flushMs);
      this.#timer.unref?.();
    }
  }

  /** Queue one entry; false when refused (counted by reason). */
  append(entry: DlqEntry): boolean {
    const line = encodeDlqLine(entry);
    const bytes = Buffer.byteLength(line);
    if (this.#closed || this.#pendingBytes + bytes > this.#maxBufferedBytes) {
      bump(this.#refused, entry.statusName);
      if (this.#closed)
        this.#errors.report({ kind: "closed", retryable: false, op: "append", message: "DLQ closed" });
      return false;
    }
    this.#pending.push(line);
    this.#pendingBytes += bytes;
    bump(this.#accepted, entry.statusName);
    return true;
  }

  /** Write buffered lines, rotating and enforcing the cap. False while writes fail. */
  flush(): boolean {
    if (this.#closed) return false;
    const now = this.#now();
    if (
      this.#fd >= 0 &&
      this.#carry === null &&
      (this.#fileBytes >= this.#maxFileBytes || now - this.#fileOpenedAt >= this.#maxFileAgeMs)
    )
      this.#seal();
    if (this.#carry === null && this.#pending.length > 0) {
      this.#carry = Buffer.from(this.#pending.join(""));
      this.#carryOff = 0;
      this.#pending = [];
    }
    const carry = this.#carry;
    if (carry === null) return true;
    try {
      if (this.#fd < 0) {
        this.#fd = this.#fs.open(`${this.#dir}/${dlqFileName(this.#fileSeq)}`, true, true);
        this.#fileBytes = 0;
        this.#fileOpenedAt = now;
      }
      while (this.#carryOff < carry.length) {
        const n = this.#fs.write(
          this.#fd,
          carry,
          this.#carryOff,
          carry.length - this.#carryOff,
          this.#fileBytes,
        );
        if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
        this.#carryOff += n;
        this.#fileBytes += n;
        this.#pendingBytes -= n;
      }
    } catch (err) {
      this.#errors.fail("write", `${this.#dir}/${dlqFileName(this.#fileSeq)}`, err);
      return false;
    }
    this.#carry = null;
    this.#errors.recovered("write");
    this.#enforceCap();
    return true;
  }

  counts(): DlqCounts {
    let bytes = this.#fd >= 0 ? this.#fileBytes : 0;
    for (const [, b] of this.#sealed) bytes += b;
    return {
      accepted: Object.fromEntries(this.#accepted),
      refused: Object.fromEntries(this.#refused),
      filesDeleted: this.#filesDeleted,
      bytesDeleted: this.#bytesDeleted,
      files: this.#sealed.length + (this.#fd >= 0 ? 1 : 0),
      bytes,
      bufferedBytes: this.#pendingBytes,
    };
  }

  get lastError(): SinkError | null {
    return this.#errors.lastError;
  }

  /** Flush, fsync and close. Lines still buffered (writes failing) are lost: see counts() first. */
  close(): void {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    this.flush();
    if (this.#fd >= 0) this.#seal();
    this.#closed = true;
  }

  #seal(): void {
    try {
      this.#fs.fsyncSync(this.#fd);
    } catch (err) {
      this.#errors.fail("fsync", `${this.#dir}/${dlqFileName(this.#fileSeq)}`, err);
    }
    this.#fs.close(this.#fd);
    this.#fd = -1;
    this.#sealed.push([this.#fileSeq, this.#fileBytes]);
    this.#fileSeq++;
  }

  /** Delete the oldest closed files while the folder is over the cap (the active file stays). */
  #enforceCap(): void {
    let total = this.#fd >= 0 ? this.#fileBytes : 0;
    for (const [, b] of this.#sealed) total += b;
    while (total > this.#maxTotalBytes && this.#sealed.length > 0) {
      const [seq, b] = this.#sealed[0]!;
      try {
        this.#fs.unlink(`${this.#dir}/${dlqFileName(seq)}`);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") {
          this.#errors.fail("delete", `${this.#dir}/${dlqFileName(seq)}`, err);
          return;
        }
      }
      this.#sealed.shift();
      total -= b;
      this.#filesDeleted++;
      this.#bytesDeleted += b;
    }
  }
}
