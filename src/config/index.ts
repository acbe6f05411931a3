export {
  type Config,
  KEYS,
  type KeyName,
  type KeyValues,
  LOG_LEVELS,
  SOURCES,
  STREAM_KINDS,
  type StreamKind,
} from "./keys.ts";
export {
  ConfigError,
  describeConfig,
  flagName,
  helpText,
  type LoadResult,
  loadConfig,
  loadConfigFromProcess,
  startSummary,
} from "./load.ts";
export { type ObjectStoreConfig, parseS3Url, type S3Credentials } from "./object-store.ts";
export {
  checkSourceMarker,
  SOURCE_MARKER_FILE,
  type SourceIdentity,
  sourceIdentity,
} from "./source-marker.ts";
