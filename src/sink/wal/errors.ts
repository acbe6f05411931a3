/**
 * Typed errors for the sink's cold boundaries (house style: a kind and whether a retry can
 * help), and the latch that reports each failure once per streak instead of once per retry:
 * a flush timer retrying every few ms against a full disk must not flood the log.
 */
import { KIND_BY_ERRNO } from "../errno.ts";
/** What failed, in words an operator and /metrics can use. */
export type SinkErrorKind =
  | "no_space" // ENOSPC, EDQUOT: clears when space is freed
  | "io" // EIO and other device errors
  | "permission" // EACCES, EPERM, EROFS
  | "missing" // ENOENT: the folder was removed under us
  | "too_large" // one frame over MAX_PAYLOAD_BYTES
  | "buffer_full" // the bounded buffer refused a frame while writes fail
  | "closed" // append after close
  | "other";

export interface SinkError {
  readonly kind: SinkErrorKind;
  /** True when the same call may succeed later without operator action beyond freeing space. */
  readonly retryable: boolean;
  /** The operation that failed: "write", "fsync", "open", "rotate", "delete", "append". */
  readonly op: string;
  readonly message: string;
  /** errno name when the error came from the OS. */
  readonly code?: string;
}

const KIND_BY_CODE: Readonly<Record<string, SinkErrorKind>> = KIND_BY_ERRNO;

/** Turn a thrown value from an fs call into a SinkError. */
export function toSinkError(op: string, path: string, err: unknown): SinkError {
  const code = (err as { code?: unknown } | null)?.code;
  const codeStr = typeof code === "string" ? code : undefined;
  const kind = (codeStr && KIND_BY_CODE[codeStr]) || "other";
  const retryable = kind === "no_space" || kind === "io";
  const detail = err instanceof Error ? err.message : String(err);
  return {
    kind,
    retryable,
    op,
    message: `${op} ${path} failed: ${detail}`,
    ...(codeStr ? { code: codeStr } : {}),
  };
}

/** An errno-style error for tests and fault injection: `errnoError("ENOSPC", "write")`. */
export function errnoError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall });
}

/** Remembers the last error and which op:kind pairs were already passed to onError. */
export class ErrorLatch {
  lastError: SinkError | null = null;
  readonly #reported = new Set<string>();
  readonly #onError: ((err: SinkError) => void) | undefined;

  constructor(onError?: (err: SinkError) => void) {
    this.#onError = onError;
  }

  fail(op: string, path: string, err: unknown): void {
    this.report(toSinkError(op, path, err));
  }

  /** `setLast: false` for symptoms (a refusal) that must not hide their cause in lastError. */
  report(e: SinkError, setLast = true): void {
    if (setLast) this.lastError = e;
    const key = `${e.op}:${e.kind}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    try {
      this.#onError?.(e);
    } catch {
      // a throwing hook must not take the sink down with it
    }
  }

  has(op: string, kind: SinkErrorKind): boolean {
    return this.#reported.has(`${op}:${kind}`);
  }

  /**
   * `op` succeeded: forget the errors it had raised so the next failure is reported again.
   * A good write also ends the refusals ("append") it caused.
   */
  recovered(op: string): void {
    if (this.#reported.size === 0 && this.lastError === null) return;
    const ends = (o: string) => o === op || (op === "write" && o === "append");
    for (const key of this.#reported) if (ends(key.slice(0, key.indexOf(":")))) this.#reported.delete(key);
    if (this.lastError !== null && ends(this.lastError.op)) this.lastError = null;
  }
}

/**
 * Report a refused append once per streak. A full buffer is a symptom: lastError keeps the
 * write error that caused it (`bufferBytes` goes into its message).
 */
export function reportRefusal(
  errors: ErrorLatch,
  kind: "buffer_full" | "too_large" | "closed",
  detail: string,
  bufferBytes: number,
): void {
  if (errors.has("append", kind)) return;
  const message =
    detail ||
    `WAL buffer full (${bufferBytes} bytes unwritten) while writes fail: refusing frames until a write succeeds`;
  errors.report({ kind, retryable: kind === "buffer_full", op: "append", message }, kind !== "buffer_full");
}
