/** The WAL writer's surface (both paths implement it), options, defaults and status snapshot. */
import type { SinkError } from "./errors.ts";
import type { SinkFs } from "./fs.ts";
import type { WalRecovery } from "./reader.ts";

/** What WalWriter.open returns, whichever path it picked (see writer.ts). */
export interface WalWriter {
  /** What recovery found on open (log it with formatWalReport). */
  readonly recovery: WalRecovery;
  /**
   * Log one frame; returns its seq, or -1 when refused (buffer full while writes fail, frame
   * over MAX_PAYLOAD_BYTES, or closed). Never throws.
   */
  append(frame: string, recvTimeUs: number, tag: number): number;
  /**
   * append() for a frame that is already UTF-8 bytes, `src[start, end)` (copied as they are: the
   * caller has checked them); same seq, same record, same refusals.
   */
  appendBytes(src: Buffer, start: number, end: number, recvTimeUs: number, tag: number): number;
  /** Write what is buffered (or hand it to the writer thread); false while writes fail. */
  flush(): boolean;
  /** Flush and fsync now, whatever the interval; resolves with durableSeq. */
  sync(): Promise<number>;
  /** Highest seq confirmed by fsync. */
  durableSeq(): number;
  readonly lastError: SinkError | null;
  status(): WalStatus;
  /**
   * Take out of service whole segments whose every record has seq ≤ `seq` (never the active one)
   * and delete them in the background, oldest first (segments.ts); returns how many were taken.
   */
  deleteUpTo(seq: number): number;
  /** Resolves when no deletion is running (done, or stopped at a failure it reported). */
  deletions(): Promise<void>;
  /** Flush, fsync and close. Records above the returned durableSeq were not persisted. */
  close(): Promise<number>;
  /** Close, then delete every segment (a K2 handing its data dir over). */
  retire(): Promise<void>;
}

export interface WalWriterOptions {
  /** `<dataDir>/wal`; created when missing. */
  readonly dir: string;
  /** At most one fsync per interval (K2_WAL_FSYNC_MS); 0 = on every flush. */
  readonly fsyncIntervalMs?: number;
  /** Rotate at the first flush after the active segment reaches this size… */
  readonly segmentMaxBytes?: number;
  /** …or this age (counted from open or rotation), so old segments become deletable. */
  readonly segmentMaxAgeMs?: number;
  /** The bounded append buffer: how much a failing disk can hold back before append refuses. */
  readonly bufferBytes?: number;
  /** > 0: the writer runs its own unref'd flush timer; 0: the owner calls flush(). */
  readonly flushIntervalMs?: number;
  /** Injected file system (tests: ENOSPC/EIO); forces the inline path, a Worker cannot use it. */
  readonly fs?: SinkFs;
  /** Injected clock (tests); forces the inline path like `fs`. */
  readonly nowMs?: () => number;
  /**
   * Default true: checksum and write on the calling thread (inline-writer.ts). false: the
   * calling thread only copies frames into shared memory and a Worker checksums, writes,
   * rotates and fsyncs (worker-writer.ts), unless `fs` or `nowMs` is injected.
   */
  readonly inline?: boolean;
  /** Called once per new error condition (not per retry), never on the append fast path. */
  readonly onError?: (err: SinkError) => void;
}

export const WAL_DEFAULTS = {
  fsyncIntervalMs: 100,
  segmentMaxBytes: 64 * 1024 * 1024,
  segmentMaxAgeMs: 10 * 60_000,
  bufferBytes: 8 * 1024 * 1024,
  flushIntervalMs: 0,
} as const;

export interface WalLimits {
  readonly fsyncIntervalMs: number;
  readonly segmentMaxBytes: number;
  readonly segmentMaxAgeMs: number;
  readonly bufferBytes: number;
  readonly flushIntervalMs: number;
}

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`WAL ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** Defaults filled in and ranges checked; throws a RangeError naming the option. */
export function walLimits(o: WalWriterOptions): WalLimits {
  const d = WAL_DEFAULTS;
  return {
    fsyncIntervalMs: int("fsyncIntervalMs", o.fsyncIntervalMs ?? d.fsyncIntervalMs, 0),
    segmentMaxBytes: int("segmentMaxBytes", o.segmentMaxBytes ?? d.segmentMaxBytes, 1024),
    segmentMaxAgeMs: int("segmentMaxAgeMs", o.segmentMaxAgeMs ?? d.segmentMaxAgeMs, 1),
    bufferBytes: int("bufferBytes", o.bufferBytes ?? d.bufferBytes, 4096),
    flushIntervalMs: int("flushIntervalMs", o.flushIntervalMs ?? d.flushIntervalMs, 0),
  };
}

export interface WalStatus {
  readonly nextSeq: number;
  /** Highest seq whose bytes reached the file (page cache). */
  readonly writtenSeq: number;
  /** Highest seq confirmed by fsync: what the pipeline may acknowledge. */
  readonly durableSeq: number;
  readonly bufferedBytes: number;
  readonly bufferCapacity: number;
  readonly segment: string;
  readonly segmentBytes: number;
  readonly segments: number;
  readonly appended: number;
  readonly refused: number;
  readonly refusedBytes: number;
  readonly writeErrors: number;
  readonly fsyncErrors: number;
  readonly lastError: SinkError | null;
}
