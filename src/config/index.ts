export {
  type Config,
  KEYS,
  type KeyName,
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
} from "./load.ts";
