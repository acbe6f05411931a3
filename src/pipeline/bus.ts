/**
 * The bus subsystem: one connection to the NATS cluster (any of K2_NATS_URL's servers; the client
 * finds the others and reconnects forever) and the stream, created or brought up to date at start.
 * Its readiness is the connection's: while the cluster is away a recorder keeps its rows in the
 * WAL and a writer waits, and /health/ready says why.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { BUS_STREAM_DEFAULTS, type BusStreamConfig, ensureStream, toBusError } from "../bus/index.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../obs/logger.ts";
import { once } from "./subsystem.ts";

export function busStreamConfig(config: Config): BusStreamConfig {
  return {
    ...BUS_STREAM_DEFAULTS,
    name: config.natsStream,
    replicas: config.natsReplicas,
    duplicateWindowMs: config.natsDuplicateWindowMs,
  };
}

export async function openBus(config: Config, log: Logger, name: string) {
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({
      servers: [...config.natsUrl],
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (e) {
    throw toBusError(`NATS at ${config.natsUrl.join(",")}`, e);
  }
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") connected = false;
      if (s.type === "reconnect") connected = true;
      if (s.type === "disconnect" || s.type === "reconnect") log.warn({ status: s.type }, "NATS connection");
    }
  })();
  const jsm = await jetstreamManager(nc);
  const stream = busStreamConfig(config);
  const info = await ensureStream(jsm, stream);
  log.info({ stream: stream.name, replicas: info.config.num_replicas, servers: config.natsUrl }, "bus ready");
  return {
    name: "bus",
    nc,
    js: jetstream(nc),
    jsm,
    stream,
    checks: {
      bus: () =>
        connected
          ? { ok: true, reason: `stream ${stream.name}` }
          : { ok: false, reason: "NATS cluster unreachable" },
    },
    start() {},
    stop: once(async () => {
      await nc.drain().catch(() => nc.close());
    }),
  };
}

export type Bus = Awaited<ReturnType<typeof openBus>>;
