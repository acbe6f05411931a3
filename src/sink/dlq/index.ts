/** The dead-letter queue on disk: rotating NDJSON files with a total size cap, and their replay. */
export { DLQ_FORMAT_VERSION, type DlqEntry, decodeDlqLine, dlqFileName, encodeDlqLine } from "./format.ts";
export {
  DLQ_DEFAULTS,
  type DlqCounts,
  DlqPersister,
  type DlqPersisterOptions,
  MAX_REASONS,
} from "./persister.ts";
export { type ReadDlqOptions, readDlq } from "./reader.ts";
