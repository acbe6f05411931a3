/**
 * Typed errors of the Parquet sink. Same shape as the WAL's SinkError (kind, retryable, op,
 * message, code) so the pipeline can count and map both the same way; kept separate because
 * sink/parquet must not depend on sink/wal.
 */
import { KIND_BY_ERRNO } from "../errno.ts";

export type ParquetErrorKind =
  | "no_space" // ENOSPC, EDQUOT: clears when space is freed
  | "io" // EIO and other device errors
  | "permission" // EACCES, EPERM, EROFS
  | "missing" // ENOENT: a folder was removed under us (mkdirp on retry recreates it)
  | "invalid_batch" // empty batch, rows outside the batch's date, bad table
  | "queue_full" // the pool's bounded in-flight queue refused the job
  | "closed" // write after close()
  | "worker_crashed" // the worker died with the job in flight; the temp file is gone or hidden
  | "corrupt" // a file that does not parse as K2 Parquet
  | "other";

const RETRYABLE: Readonly<Record<ParquetErrorKind, boolean>> = {
  no_space: true,
  io: true,
  permission: false,
  missing: true,
  invalid_batch: false,
  queue_full: true,
  closed: false,
  worker_crashed: true,
  corrupt: false,
  other: false,
};

/** Plain-data form: what crosses the worker boundary (structured clone drops Error subclasses). */
export interface ParquetErrorData {
  readonly kind: ParquetErrorKind;
  readonly retryable: boolean;
  /** The step that failed: "mkdir", "open", "write", "fsync", "rename", "fsync_dir", "encode", … */
  readonly op: string;
  readonly message: string;
  /** errno name when the error came from the OS. */
  readonly code?: string;
}

export class ParquetSinkError extends Error implements ParquetErrorData {
  readonly kind: ParquetErrorKind;
  readonly retryable: boolean;
  readonly op: string;
  readonly code?: string;

  constructor(data: Omit<ParquetErrorData, "retryable"> & { retryable?: boolean }) {
    super(data.message);
    this.name = "ParquetSinkError";
    this.kind = data.kind;
    this.retryable = data.retryable ?? RETRYABLE[data.kind];
    this.op = data.op;
    if (data.code !== undefined) this.code = data.code;
  }

  toData(): ParquetErrorData {
    const { kind, retryable, op, message, code } = this;
    return code === undefined ? { kind, retryable, op, message } : { kind, retryable, op, message, code };
  }
}

const KIND_BY_CODE: Readonly<Record<string, ParquetErrorKind>> = KIND_BY_ERRNO;

/** Turn whatever an fs call threw into a typed error naming the step and the path. */
export function toParquetError(op: string, path: string, err: unknown): ParquetSinkError {
  if (err instanceof ParquetSinkError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const codeStr = typeof code === "string" ? code : undefined;
  const kind = (codeStr && KIND_BY_CODE[codeStr]) || "other";
  const detail = err instanceof Error ? err.message : String(err);
  return new ParquetSinkError({
    kind,
    op,
    message: `${op} ${path} failed: ${detail}`,
    ...(codeStr ? { code: codeStr } : {}),
  });
}

/** An errno-style error for fault injection: `errnoError("ENOSPC", "write")`. */
export function errnoError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall });
}
