/**
 * The bus's one error type, shaped like the sinks' (kind, retryable, message). `retryable` says
 * whether waiting helps: a cluster without a stream leader or a lost connection comes back; a
 * malformed message or a stream configured against us does not.
 */
export type BusErrorKind =
  | "unreachable" // no server answered, a timeout, no stream leader (yet): the cluster is down or electing
  | "config" // a stream or consumer setting we cannot use (bad value, or a stream that contradicts ours)
  | "malformed" // a message whose subject or payload is not what a K2 recorder publishes
  | "closed"; // the publisher or reader was closed while the operation waited

const RETRYABLE: Readonly<Record<BusErrorKind, boolean>> = {
  unreachable: true,
  config: false,
  malformed: false,
  closed: false,
};

export class BusError extends Error {
  readonly kind: BusErrorKind;
  readonly retryable: boolean;

  constructor(kind: BusErrorKind, message: string) {
    super(message);
    this.name = "BusError";
    this.kind = kind;
    this.retryable = RETRYABLE[kind];
  }
}

/**
 * A client or server failure, as a BusError: timeouts and "no responders" are the cluster being
 * away. The client reports a publish nobody answered as "jetstream is not enabled"; on K2's
 * subjects that means no stream leader (an election, or every server down), so it is waited for.
 */
export function toBusError(what: string, err: unknown): BusError {
  if (err instanceof BusError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : "";
  const away =
    /timeout|no responders|503|connection|closed|disconnect|leader|temporarily unavailable|not enabled|heartbeat/i;
  return new BusError(away.test(msg) || away.test(name) ? "unreachable" : "config", `${what}: ${msg}`);
}
