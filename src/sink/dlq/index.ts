/** The dead-letter queue on disk: rotating NDJSON files with a total size cap, their replay, and the replay-in pickup. */
export { DLQ_FORMAT_VERSION, type DlqEntry, decodeDlqLine, dlqFileName, encodeDlqLine } from "./format.ts";
export {
  DLQ_DEFAULTS,
  type DlqCounts,
  DlqPersister,
  type DlqPersisterOptions,
  MAX_REASONS,
} from "./persister.ts";
export { type ReadDlqOptions, readDlq } from "./reader.ts";
export { adoptReplayIn, type ReplayInReport, type ReplayInWal } from "./replay-in.ts";
