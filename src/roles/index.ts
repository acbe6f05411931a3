/**
 * Runs a role other than `all` (K2_ROLE): claim what it owns, start it, serve health, metrics
 * (and /v1 on a query node) on K2_PORT, drain on SIGTERM/SIGINT. A recorder owns its WAL folder
 * like a single process does; a writer owns its shard of the folder (writers of other shards
 * share it); a query node only reads. No hand-over between roles: a second process of the same
 * claim is refused (exit 2).
 */
import pkg from "../../package.json" with { type: "json" };
import { type Config, checkSourceMarker } from "../config/index.ts";
import { apiOptionsOf, createApp, withClient } from "../http/index.ts";
import type { Logger } from "../obs/index.ts";
import { type Claim, claimDataDir, DataDirTakenError, drainOnSignal, portInUse } from "../owner/index.ts";
import { startQueryNode } from "./query.ts";
import { startRecorder } from "./recorder.ts";
import type { RoleProcess } from "./role.ts";
import { startWriter } from "./writer.ts";

function refuse(message: string): never {
  console.error(`k2: ${message}`);
  process.exit(2);
}

export async function runRole(config: Config, logger: Logger): Promise<void> {
  let claim: Claim | undefined;
  const scope = config.role === "writer" ? `writer-${config.writerShard}-of-${config.shards}` : "all";
  if (config.role !== "query") {
    try {
      claim = await claimDataDir(config.dataDir, pkg.version, scope);
    } catch (e) {
      if (e instanceof DataDirTakenError)
        refuse(`${e.message} (role ${config.role}${config.role === "writer" ? ` shard ${scope}` : ""})`);
      throw e;
    }
  }
  if (portInUse(config.host, config.port))
    refuse(`port ${config.port} on ${config.host} is in use by another program (K2_PORT)`);
  // A recorder records one market into its folder (src/config/source-marker.ts). A writer and a
  // query node record none: they store and read what the recorders publish, whatever their own
  // K2_SOURCE says, so their folders carry no marker (one NATS cluster per market keeps them apart).
  if (config.role === "recorder") {
    const refusal = checkSourceMarker(config.dataDir, config);
    if (refusal) refuse(refusal);
  }
  logger.info({ version: pkg.version, role: config.role }, "k2 starting");
  let proc: RoleProcess;
  try {
    proc =
      config.role === "recorder"
        ? await startRecorder(config, logger)
        : config.role === "writer"
          ? await startWriter(config, logger)
          : await startQueryNode(config, logger);
  } catch (e) {
    logger.fatal({ err: e }, "k2 could not start");
    refuse(`could not start role ${config.role}: ${(e as Error).message}`);
  }
  const app = createApp({
    registry: proc.registry,
    readiness: proc.readiness,
    logger,
    version: pkg.version,
    engine: proc.engine,
    load: proc.degradation,
    api: apiOptionsOf(config),
    ...(proc.books ? { books: proc.books } : {}),
    ...(proc.certify ? { certify: proc.certify } : {}),
  });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port, // The client address rides on the request: the anonymous rate limit is per address.
      fetch: (req, server) => app.handle(withClient(req, server)),
    });
  } catch (e) {
    // Free at the check above, taken since: stop what started (it drains) and refuse, as main.ts does.
    await proc.stop();
    claim?.release();
    refuse(`port ${config.port} on ${config.host} could not be bound: ${(e as Error).message} (K2_PORT)`);
  }
  if (claim) claim.info.url = server.url.href;
  logger.info({ pid: process.pid, role: config.role, url: server.url.href }, "k2 serving");
  const shutdown = drainOnSignal({
    logger,
    graceMs: config.shutdownGraceMs,
    server: () => server,
    stop: () => proc.stop(),
    release: () => claim?.release(),
  });
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
