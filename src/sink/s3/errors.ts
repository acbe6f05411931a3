/**
 * Typed errors of the object store, same shape as the other sinks' errors (kind, retryable, op,
 * message, code). `retryable` decides start-up only: there a wrong bucket or key must stop K2
 * with a clear message, while a store that is briefly down is waited for. Once running, every
 * failed upload is retried whatever its kind (rows are never dropped; readiness reports it).
 */
export type ObjectStoreErrorKind =
  | "unreachable" // connection refused/reset, DNS, timeout: the store or the network is down
  | "denied" // bad credentials, signature or policy: an operator must act
  | "no_bucket" // the bucket does not exist
  | "not_found" // the object is gone (deleted by someone else between list and get)
  | "server" // 5xx, SlowDown, InternalError: the store's own trouble, usually brief
  | "local" // the local file side of a transfer (read, write, fsync, rename)
  | "mismatch" // a download whose size differs from the listing
  | "stopped" // the mirror was stopped while the operation waited
  | "other";

const RETRYABLE: Readonly<Record<ObjectStoreErrorKind, boolean>> = {
  unreachable: true,
  denied: false,
  no_bucket: false,
  not_found: false,
  server: true,
  local: true,
  mismatch: true,
  stopped: false,
  other: true,
};

const KIND_BY_CODE: Readonly<Record<string, ObjectStoreErrorKind>> = {
  NoSuchBucket: "no_bucket",
  NoSuchKey: "not_found",
  AccessDenied: "denied",
  InvalidAccessKeyId: "denied",
  SignatureDoesNotMatch: "denied",
  ExpiredToken: "denied",
  InvalidToken: "denied",
  InternalError: "server",
  ServiceUnavailable: "server",
  SlowDown: "server",
  RequestTimeout: "server",
};

export class ObjectStoreError extends Error {
  readonly kind: ObjectStoreErrorKind;
  readonly retryable: boolean;
  /** "put", "get", "list", "delete". */
  readonly op: string;
  /** The S3 or errno code when there was one. */
  readonly code: string | undefined;

  constructor(kind: ObjectStoreErrorKind, op: string, message: string, code?: string) {
    super(message);
    this.name = "ObjectStoreError";
    this.kind = kind;
    this.retryable = RETRYABLE[kind];
    this.op = op;
    this.code = code;
  }
}

/** Bun's S3Error (code "NoSuchBucket", "ConnectionRefused", …), an errno error or anything else. */
export function toObjectStoreError(op: string, what: string, err: unknown): ObjectStoreError {
  if (err instanceof ObjectStoreError) return err;
  const code = (err as { code?: unknown })?.code;
  const c = typeof code === "string" ? code : undefined;
  const detail = err instanceof Error ? err.message : String(err);
  let kind: ObjectStoreErrorKind = "other";
  if (c !== undefined && KIND_BY_CODE[c]) kind = KIND_BY_CODE[c]!;
  else if (c !== undefined && /^(Connection|ECONN|ETIMEDOUT|ENOTFOUND|EAI_|EHOSTUNREACH|ENETUNREACH)/.test(c))
    kind = "unreachable";
  else if (c !== undefined && /^E[A-Z]+$/.test(c)) kind = "local";
  return new ObjectStoreError(kind, op, `${op} ${what}: ${c ? `${c}: ` : ""}${detail}`, c);
}
