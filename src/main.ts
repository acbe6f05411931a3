#!/usr/bin/env bun
/**
 * K2 entry: loadConfig → buildPipeline → serve; SIGTERM/SIGINT stop accepting, drain, flush and
 * exit 0 within K2_SHUTDOWN_GRACE_MS. A bad configuration exits 2 with one line.
 */
import pkg from "../package.json" with { type: "json" };
import { ConfigError, describeConfig, loadConfigFromProcess } from "./config/index.ts";
import { createApp } from "./http/index.ts";
import { isLoopbackHost } from "./http/routes/v1/guard.ts";
import { createLogger } from "./obs/index.ts";
import { buildPipeline, type Pipeline } from "./pipeline/index.ts";

// `k2 query ...` is the client (src/cli/): it talks to a running server and reads no server config.
if (Bun.argv[2] === "query") {
  const { main } = await import("./cli/index.ts");
  process.exit(await main(Bun.argv.slice(3), process.env));
}
// `k2 dlq ...` reads the dead-letter folder offline (src/cli/dlq.ts): no server, no server config.
if (Bun.argv[2] === "dlq") {
  const { dlqMain } = await import("./cli/index.ts");
  process.exit(await dlqMain(Bun.argv.slice(3), process.env));
}

function loadOrExit() {
  try {
    const r = loadConfigFromProcess();
    if (r.kind === "help") {
      console.log(r.text);
      process.exit(0);
    }
    return r.config;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`k2: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}

const config = loadOrExit();
const logger = createLogger(config.logLevel);
logger.info({ version: pkg.version, config: describeConfig(config) }, "k2 starting");

let pipeline: Pipeline;
try {
  pipeline = await buildPipeline(config, logger);
} catch (e) {
  logger.fatal({ err: e }, "k2 could not start");
  console.error(`k2: could not start: ${(e as Error).message}`);
  process.exit(1);
}

const app = createApp({
  registry: pipeline.registry,
  readiness: pipeline.readiness,
  logger,
  version: pkg.version,
  engine: pipeline.engine,
  load: pipeline.degradation,
  api: {
    apiKeys: config.apiKeys,
    requireApiKey: !isLoopbackHost(config.host) || config.apiKeys.length > 0,
    rateLimitPerSec: config.rateLimitPerSec,
    rateLimitBurst: config.rateLimitBurst,
    corsOrigins: config.corsOrigins,
    maxBodyBytes: config.maxBodyBytes,
  },
});
const server = Bun.serve({ hostname: config.host, port: config.port, fetch: (req) => app.handle(req) });
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
logger.info({ url: server.url.href }, "k2 serving");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, grace_ms: config.shutdownGraceMs }, "k2 stopping");
  const force = setTimeout(() => {
    logger.error({ grace_ms: config.shutdownGraceMs }, "grace period over; exiting without a full drain");
    process.exit(1);
  }, config.shutdownGraceMs);
  // Stop accepting new connections; in-flight requests finish.
  await server.stop(false);
  await pipeline.stop();
  clearTimeout(force);
  logger.info("k2 stopped");
  logger.flush?.();
  process.exit(0);
}
