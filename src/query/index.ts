export { CandleCache, type CandleCacheOptions } from "./candle-cache.ts";
export { DirFileSource } from "./dir-source.ts";
export { DEFAULT_DUCK_OPTIONS, Duck, type DuckOptions } from "./duck.ts";
export {
  type DailySummary,
  DEFAULT_ENGINE_OPTIONS,
  type EngineDeps,
  type EngineOptions,
  type GapView,
  QueryEngine,
} from "./engine.ts";
export { type HotOptions, HotRing, HotWindow } from "./hot.ts";
export {
  type CandlePartial,
  divRoundHalfUp,
  INTERVAL_US,
  INTERVALS,
  type Interval,
  OHLCV_COLUMNS,
  type OhlcvQuery,
  type OhlcvResult,
} from "./ohlcv.ts";
export { type ReplayQuery, replay } from "./replay.ts";
export type { RowQuery, RowResult } from "./rows.ts";
export * from "./types.ts";
