/**
 * The source subsystem: simulator (K2_SOURCE=sim) → Binance source (shards, backoff, pacing,
 * rotation) → a staging buffer that holds frames until the ingest subsystem is attached, so the
 * WebSocket sessions can open before storage does (a hand-over opens them while the old K2 still
 * owns the data dir). Its readiness is the health tiers' (src/source/health.ts).
 */
import type { Config } from "../config/index.ts";
import type { SymbolLookup } from "../decode/binance/index.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import { Backoff } from "../resilience/backoff.ts";
import { ConnectionPacer } from "../resilience/pacer.ts";
import { type Simulator, startSimulator } from "../sim/index.ts";
import { BinanceSource, type LifecycleEvent } from "../source/binance/source.ts";
import { type StreamKind, shardStreams, streamNames } from "../source/binance/streams.ts";
import { SourceHealth } from "../source/health.ts";
import { type FrameSink, FrameStaging } from "./staging.ts";

export interface IntakeDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly symbols: SymbolTable;
  readonly lookup: SymbolLookup;
}

export async function openIntake(d: IntakeDeps) {
  const { config, log } = d;
  let sim: Simulator | undefined;
  let wsUrl = config.binanceWsUrl;
  let restUrl = config.binanceRestUrl;
  let archiveUrl = config.archiveUrl;
  if (config.source === "sim") {
    // Ids continue with wall-clock time across restarts (as on a real exchange), so a restarted
    // embedded simulator never reissues ids K2 already stored.
    const base = Math.floor(Date.now() / 1000) * config.simRate;
    sim = await startSimulator({
      symbols: [...config.symbols],
      ratePerSec: config.simRate,
      seed: config.simSeed,
      startTradeId: base,
      startAggId: base,
      startUpdateId: base * 4,
      // A book per symbol only when K2 keeps books: the trade-only market stays the default.
      books: config.streams.includes("depth"),
    });
    wsUrl = sim.wsUrl;
    restUrl = sim.restUrl;
    archiveUrl = sim.archiveUrl;
    log.info(
      { ws: wsUrl, rest: restUrl, archive: archiveUrl },
      "embedded Binance simulator started on loopback",
    );
  }
  const staging = new FrameStaging(d.lookup, d.symbols);
  let sink: FrameSink = staging;
  const pacer = new ConnectionPacer({
    minIntervalMs: config.connectMinIntervalMs,
    maxPerWindow: config.connectMaxPer5Min,
    windowMs: 300_000,
  });
  const streams = streamNames(config.symbols, config.streams as readonly StreamKind[]);
  const source = new BinanceSource(
    {
      wsUrl,
      client: config.wsClient,
      shards: shardStreams(streams, config.streamsPerConnection),
      dataTimeoutMs: config.dataTimeoutMs,
      rotateAfterMs: config.rotateAfterMs,
      healthyAfterMs: config.healthyAfterMs,
      newBackoff: () => new Backoff({ baseMs: config.reconnectBaseMs, capMs: config.reconnectMaxMs }),
      gate: pacer,
    },
    {
      onFrame: (f, recv, shard) => sink.onFrame(f, recv, shard),
      onFrameBytes: (f, start, end, recv, shard) => sink.onFrameBytes?.(f, start, end, recv, shard) === true,
      onBinary: (f, recv, shard) => sink.onBinary(f, recv, shard),
      onLifecycle: (ev) => {
        if (ev.type === "closed") logClosed(log, ev);
        else if (ev.type === "connected")
          log.info(
            { host: ev.host, shards: ev.shards, streams: ev.streams },
            `connected to ${ev.host}, subscribed ${ev.streams} streams`,
          );
        else if (ev.type === "connecting")
          log.info({ shard: ev.shard, attempt: ev.attempt, delay_ms: ev.delayMs }, "connecting");
        else if (ev.type === "rotated" || ev.type === "rotation_started") log.info(ev, ev.type);
      },
    },
  );
  return {
    sim,
    /** The endpoints in use: the embedded simulator's when K2_SOURCE=sim, else the configured. */
    restUrl,
    archiveUrl,
    source,
    pacer,
    staging,
    /** From now on frames go to `ingest`; what the staging buffer holds goes first, in order. */
    attach(ingest: FrameSink): number {
      const held = staging.drainInto(ingest);
      sink = ingest;
      return held;
    },
  };
}

export type Intake = Awaited<ReturnType<typeof openIntake>>;

/**
 * A session that never opened is an unreachable source: say where, why and when the next try is
 * (the close code alone, 1006, says none of it). A session that ended says the same of its end.
 */
function logClosed(log: Logger, ev: Extract<LifecycleEvent, { type: "closed" }>): void {
  const next = ev.retryInMs === undefined ? "" : `; next try in ${Math.round(ev.retryInMs)} ms`;
  const fields = {
    shard: ev.shard,
    conn: ev.conn,
    host: ev.host,
    reason: ev.reason,
    retry_in_ms: ev.retryInMs === undefined ? undefined : Math.round(ev.retryInMs),
  };
  if (ev.reason === "error")
    log.warn({ ...fields, cause: ev.detail }, `source unreachable: ${ev.host}: ${ev.detail}${next}`);
  else if (ev.reason === "stopped" || ev.reason === "rotated")
    log.info({ ...fields, detail: ev.detail }, "connection closed");
  else log.warn({ ...fields, detail: ev.detail }, `connection to ${ev.host} closed (${ev.reason})${next}`);
}

export interface SourceOptions {
  readonly config: Config;
  readonly log: Logger;
  /** What the management tick logs beside the shard states (ring, backlog, degradation). */
  readonly management: () => Record<string, string | number>;
  /** A hand-over: the sessions already deliver, so start() does not start them again. */
  readonly delivering: boolean;
  /** Rows accepted so far (every table): the status line shows their rate since the last one.
   * Optional: a role that does not pass it (the recorder, src/roles/recorder.ts) logs no rate. */
  readonly rowsAccepted?: () => number;
}

/** The intake as a subsystem: the sessions, plus the health tiers that judge them. */
export function sourceSubsystem(intake: Intake, o: SourceOptions) {
  const { config } = o;
  const rowsAccepted = o.rowsAccepted;
  let last = { rows: rowsAccepted?.() ?? 0, atMs: performance.now() };
  const rowsPerS = (): number | undefined => {
    if (!rowsAccepted) return undefined;
    const now = { rows: rowsAccepted(), atMs: performance.now() };
    const seconds = (now.atMs - last.atMs) / 1000;
    const rate = seconds > 0 ? (now.rows - last.rows) / seconds : 0;
    last = now;
    return Math.round(rate);
  };
  const health = new SourceHealth(
    { shardStatus: () => intake.source.shardStatus(), management: o.management },
    {
      dataTimeoutMs: config.dataTimeoutMs,
      dataMs: config.healthDataMs,
      mgmtMs: config.healthMgmtMs,
      controlMs: config.healthControlMs,
      onManagement: (facts) => o.log.info({ rows_per_s: rowsPerS(), ...facts }, "management tick"),
    },
  );
  return {
    name: "source",
    health,
    checks: { source: () => health.ready() },
    start() {
      health.start();
      // Taking over, the sessions already deliver: ready at once rather than at the first data tick.
      if (o.delivering) health.dataTick();
      else intake.source.start();
    },
    async stop() {
      intake.source.stop();
      health.stop();
    },
  };
}
