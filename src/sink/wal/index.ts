/**
 * The write-ahead log: raw frames, appended before decode, replayed through the same decoders.
 * Start-up order: `WalWriter.open` (recovers and repairs the tail; log
 * `formatWalReport(w.recovery)`), then `readWal(dir, { afterSeq })` to replay, then `append`.
 * Ack with `durableSeq()`; drop what Parquet holds with `deleteUpTo(seq)`.
 */
export { ErrorLatch, errnoError, type SinkError, type SinkErrorKind, toSinkError } from "./errors.ts";
export { MAX_PAYLOAD_BYTES, segmentName, WalTag } from "./format.ts";
export { nodeSinkFs, type SinkFs } from "./fs.ts";
export {
  emptyReport,
  formatWalReport,
  readWal,
  recoverWal,
  type WalProblem,
  type WalProblemKind,
  type WalRecord,
  type WalRecovery,
  type WalReport,
} from "./reader.ts";
export { WAL_DEFAULTS, type WalStatus, WalWriter, type WalWriterOptions } from "./writer.ts";
