#!/usr/bin/env bun
/**
 * K2 entry: loadConfig → claim the data dir → buildPipeline → serve; SIGTERM/SIGINT stop
 * accepting, drain, flush and exit 0 within K2_SHUTDOWN_GRACE_MS. A bad configuration, a data dir
 * another K2 owns or a port in use exits 2 with one line, before any file is opened.
 */
import pkg from "../package.json" with { type: "json" };
import {
  ConfigError,
  checkSourceMarker,
  describeConfig,
  loadConfigFromProcess,
  startSummary,
} from "./config/index.ts";
import { apiOptionsOf, createApp, withClient } from "./http/index.ts";
import { createLogger } from "./obs/index.ts";
import {
  BlueSide,
  type Claim,
  claimDataDir,
  DataDirTakenError,
  drainOnSignal,
  GreenSide,
  HandoverError,
  HandoverMetrics,
  portInUse,
} from "./owner/index.ts";
import { migrateReqWarning } from "./owner/migrate-req.ts";
import { type BuildOptions, buildPipeline, type Pipeline } from "./pipeline/index.ts";

// `k2 query ...` is the client (src/cli/): it talks to a running server and reads no server config.
if (Bun.argv[2] === "query") {
  const { main } = await import("./cli/index.ts");
  process.exit(await main(Bun.argv.slice(3), process.env));
}
// `k2 dlq ...` reads the dead-letter folder offline (src/cli/dlq.ts): no server, no server config.
// `k2 verify ...` certifies a day offline from the data folder and the public archive (src/cli/verify.ts).
if (Bun.argv[2] === "verify") {
  const { verifyMain } = await import("./cli/index.ts");
  process.exit(await verifyMain(Bun.argv.slice(3), process.env));
}
if (Bun.argv[2] === "dlq") {
  const { dlqMain } = await import("./cli/index.ts");
  process.exit(await dlqMain(Bun.argv.slice(3), process.env));
}
// `k2 backfill ...` loads past days from the public archive as its own process (src/cli/backfill.ts).
if (Bun.argv[2] === "backfill") {
  const { backfillMain } = await import("./cli/index.ts");
  process.exit(await backfillMain(Bun.argv.slice(3), process.env));
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

// The scale-out roles (docs/SCALING.md) start their own way; `all` is the single process below.
// Their process lives on in the server and signal handlers runRole set up: the rest of this
// module never runs for them (the await never resolves).
if (config.role !== "all") {
  const { runRole } = await import("./roles/index.ts");
  await runRole(config, createLogger(config.logLevel));
  await new Promise<never>(() => {});
}

/** One line on stderr and exit 2: what an operator must fix before K2 can start. */
function refuse(message: string): never {
  console.error(`k2: ${message}`);
  process.exit(2);
}

/** One market per data dir (src/config/source-marker.ts): checked before anything in it is opened. */
function checkMarket(): void {
  const refusal = checkSourceMarker(config.dataDir, config);
  if (refusal) refuse(refusal);
}

// Before anything in the data dir is opened: own it (one K2 per folder) or take it over from
// the K2 that does (src/owner/handover.ts), make sure the port is free and the folder holds the
// market this K2 records.
let claim: Claim | undefined;
let green: GreenSide | undefined;
try {
  claim = await claimDataDir(config.dataDir, pkg.version);
} catch (e) {
  if (!(e instanceof DataDirTakenError)) {
    console.error(`k2: could not start: data dir ${config.dataDir}: ${(e as Error).message}`);
    process.exit(1);
  }
  if (config.handover === "refuse") refuse(`${e.message} (K2_HANDOVER=refuse)`);
  if (!e.owner) refuse(e.message);
  if (config.source === "sim")
    refuse(
      `data dir ${config.dataDir} is in use by K2 pid ${e.owner.pid} (${e.owner.url ?? "starting"}); a hand-over needs one market both processes share, and K2_SOURCE=sim starts one inside each: run the simulator on its own (bun run src/sim/main.ts) with K2_SOURCE=binance pointed at it, or stop pid ${e.owner.pid} first`,
    );
  checkMarket();
  try {
    green = await GreenSide.begin(config.dataDir, e.owner, {
      version: pkg.version,
      host: config.host,
      port: config.port,
      timeoutMs: config.handoverTimeoutMs,
    });
  } catch (h) {
    if (h instanceof HandoverError) refuse(h.message);
    throw h;
  }
}
// Taking over, the port is the old owner's (shared with SO_REUSEPORT); otherwise it must be free.
if (!green && portInUse(config.host, config.port))
  refuse(`port ${config.port} on ${config.host} is in use by another program (K2_PORT)`);
if (!green) checkMarket();

const logger = createLogger(config.logLevel);
// On a terminal (where the logger pretty-prints, src/obs/logger.ts) every key would be a line of
// its own: one sentence there, the keys at debug. JSON lines keep them in the first record.
if (process.stdout.isTTY) {
  logger.info(`k2 ${pkg.version} starting: ${startSummary(config)}`);
  logger.debug({ config: describeConfig(config) }, "configuration");
} else logger.info({ version: pkg.version, config: describeConfig(config) }, "k2 starting");

async function build(opts: BuildOptions = {}): Promise<Pipeline> {
  try {
    return await buildPipeline(config, logger, opts);
  } catch (e) {
    if (e instanceof HandoverError) refuse(e.message);
    logger.fatal({ err: e }, "k2 could not start");
    console.error(`k2: could not start: ${(e as Error).message}`);
    process.exit(1);
  }
}

const migrateWarning = config.handover === "auto" ? migrateReqWarning() : null;
if (migrateWarning) logger.warn(migrateWarning);
const handovers = new HandoverMetrics();
let pipeline = await build(green ? { takeOver: (intake) => green!.takeOver(intake) } : {});
handovers.attach(pipeline.registry);
const owned: Claim = claim ?? green!.claim!;

function appFor(p: Pipeline) {
  return createApp({
    registry: p.registry,
    readiness: p.readiness,
    logger,
    version: pkg.version,
    engine: p.engine,
    load: p.degradation,
    certify: p.certify,
    ...(p.books ? { books: p.books } : {}),
    api: apiOptionsOf(config),
  });
}
// Requests go to the current pipeline's app: a hand-over abandoned after the cut restarts it.
let app = appFor(pipeline);
let server: ReturnType<typeof Bun.serve>;
try {
  // SO_REUSEPORT: a successor binds the same port beside this process during a hand-over.
  server = Bun.serve({
    hostname: config.host,
    port: config.port,
    reusePort: true,
    // The client address rides on the request: the anonymous rate limit is per address.
    fetch: (req, server) => app.handle(withClient(req, server)),
  });
} catch (e) {
  // Free at the check above, taken since: nothing was accepted yet, so stop cleanly and refuse.
  await pipeline.stop();
  refuse(`port ${config.port} on ${config.host} could not be bound: ${(e as Error).message} (K2_PORT)`);
}
const shutdown = drainOnSignal({
  logger,
  graceMs: config.shutdownGraceMs,
  server: () => server,
  stop: () => pipeline.stop(),
  release: () => owned.release(),
});
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
owned.info.url = server.url.href;
logger.info({ pid: process.pid, url: server.url.href }, "k2 serving");

// Owner from here on: a later K2 on this folder hands over from this one.
const blue = new BlueSide({
  host: config.host,
  port: () => server.port ?? config.port,
  timeoutMs: config.handoverTimeoutMs,
  pipeline: () => pipeline,
  claim: owned,
  log: logger,
  finish: () => void shutdown("handover"),
  onResult: (r) => handovers.record(r),
  restart: async () => {
    const old = pipeline;
    const fresh = await build();
    // The old app (its engine still open) answers until the new pipeline is ready, so
    // /health/ready does not flip to 503 while the new sessions deliver their first frames.
    const deadline = performance.now() + config.handoverTimeoutMs;
    while (!fresh.readiness.report().ready && performance.now() < deadline) await Bun.sleep(20);
    handovers.attach(fresh.registry);
    pipeline = fresh;
    app = appFor(fresh);
    await old.stop();
    logger.info("pipeline restarted after an abandoned hand-over");
  },
});
owned.setHandler((req, peer) => blue.handle(req, peer));
if (green) {
  await green.serving(server.url.href);
  handovers.seconds = process.uptime();
  handovers.record(green.summary.owner_lost ? "owner_lost" : "taken_over");
  logger.info({ ...green.summary, seconds: Number(handovers.seconds.toFixed(3)) }, "handover complete");
}
