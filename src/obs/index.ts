export { createLogger, type Logger, stageLogger } from "./logger.ts";
export { LoopLagMonitor } from "./loop-lag.ts";
export { Counter, CounterChild, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE, Registry } from "./metrics.ts";
export { openFdCount, registerProcessMetrics } from "./process.ts";
