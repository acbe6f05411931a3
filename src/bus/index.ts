/**
 * The JetStream side of K2 (issue 14): subjects and shards, the stream, row encoding, a
 * publisher with a bounded ack window and a writer shard's pull consumer. Independent of the
 * pipeline; the recorder, writer and query roles wire it in.
 */
export {
  BUS_COLUMNS,
  BUS_FORMAT_VERSION,
  decodeRows,
  encodedBytes,
  encodedRowCount,
  encodeRows,
} from "./codec.ts";
export { BusError, type BusErrorKind, toBusError } from "./errors.ts";
export { decodeKline, encodeKline, KLINE_BODY_BYTES } from "./kline-codec.ts";
export { acquireLease, LEASE_TTL_MS, type Lease, type LeaseHolder, LeaseTakenError } from "./lease.ts";
export {
  BusPublisher,
  type OutBatch,
  type PublisherOptions,
  type PublisherStats,
} from "./publisher.ts";
export {
  BusReader,
  durableName,
  type Fetched,
  type InMessage,
  type KlineMessage,
  type ReaderOptions,
  type RowMessage,
} from "./reader.ts";
export { BUS_STREAM_DEFAULTS, type BusStreamConfig, checkStreamConfig, ensureStream } from "./stream.ts";
export {
  batchMsgId,
  checkShards,
  KLINE_SUBJECT_KIND,
  klineMsgId,
  klineSubjectOf,
  MAX_SHARDS,
  parseKlineSubject,
  parseSubject,
  rowMsgId,
  STREAM_SUBJECTS,
  SUBJECT_ROOT,
  type SubjectParts,
  shardFilter,
  shardOf,
  subjectOf,
  symbolHash,
} from "./subjects.ts";
