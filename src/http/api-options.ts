/** The API's options as configured: one mapping from K2's keys, for every process that serves /v1. */
import type { Config } from "../config/index.ts";
import { isLoopbackHost, metricsNeedKey } from "./routes/v1/guard.ts";
import type { ApiOptions } from "./routes/v1.ts";

export function apiOptionsOf(config: Config): Partial<ApiOptions> {
  return {
    apiKeys: config.apiKeys,
    // Off loopback nobody answers anonymously; on it, keys (when set) still apply.
    requireApiKey: !isLoopbackHost(config.host) || config.apiKeys.length > 0,
    metricsNeedKey: metricsNeedKey(config.host, config.metricsPublic),
    rateLimitPerSec: config.rateLimitPerSec,
    rateLimitBurst: config.rateLimitBurst,
    corsOrigins: config.corsOrigins,
    maxBodyBytes: config.maxBodyBytes,
  };
}
