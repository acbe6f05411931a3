/**
 * The ingest side, in two parts so the WebSocket sessions can open before storage does (a
 * hand-over opens them while the old K2 still owns the data dir):
 * - intake: simulator (K2_SOURCE=sim) → Binance source (shards, backoff, pacing, rotation),
 *   whose frames go to a staging buffer until an ingest is attached;
 * - continuity: REST client + breaker + gap repairer, sequencer, gap ledger → ingest (decode,
 *   continuity, WAL, ring).
 */
import type { Config } from "../config/index.ts";
import type { SymbolLookup } from "../decode/binance/index.ts";
import { FrameTag, Ingest } from "../ingest/ingest.ts";
import type { RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { TableId } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import { Backoff } from "../resilience/backoff.ts";
import { CircuitBreaker } from "../resilience/circuit-breaker.ts";
import { ConnectionPacer } from "../resilience/pacer.ts";
import { DeadLetterBuffer } from "../ring/dead-letter.ts";
import type { Ring } from "../ring/ring.ts";
import { type Simulator, startSimulator } from "../sim/index.ts";
import type { WalWriter } from "../sink/wal/index.ts";
import { nowUs } from "../source/binance/connection.ts";
import { BinanceRest } from "../source/binance/rest.ts";
import { BinanceSource } from "../source/binance/source.ts";
import { type StreamKind, shardStreams, streamNames } from "../source/binance/streams.ts";
import { GapLedger } from "../source/gap-ledger.ts";
import { GapRepairer } from "../source/gap-repair.ts";
import { Sequencer } from "../source/sequencer.ts";
import { RESUME_FILL } from "./backpressure.ts";
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
    });
    wsUrl = sim.wsUrl;
    restUrl = sim.restUrl;
    log.info({ ws: wsUrl, rest: restUrl }, "embedded Binance simulator started on loopback");
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
      shards: shardStreams(streams, config.streamsPerConnection),
      dataTimeoutMs: config.dataTimeoutMs,
      rotateAfterMs: config.rotateAfterMs,
      healthyAfterMs: config.healthyAfterMs,
      newBackoff: () => new Backoff({ baseMs: config.reconnectBaseMs, capMs: config.reconnectMaxMs }),
      gate: pacer,
    },
    {
      onFrame: (f, recv, shard) => sink.onFrame(f, recv, shard),
      onBinary: (f, recv, shard) => sink.onBinary(f, recv, shard),
      onLifecycle: (ev) => {
        if (ev.type === "closed")
          log.warn(
            { shard: ev.shard, conn: ev.conn, reason: ev.reason, detail: ev.detail },
            "connection closed",
          );
        else if (ev.type === "connecting")
          log.info({ shard: ev.shard, attempt: ev.attempt, delay_ms: ev.delayMs }, "connecting");
        else if (ev.type === "rotated" || ev.type === "rotation_started") log.info(ev, ev.type);
      },
    },
  );
  return {
    sim,
    restUrl,
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

export interface ContinuityDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly symbols: SymbolTable;
  readonly lookup: SymbolLookup;
  readonly ring: Ring;
  readonly wal: WalWriter;
  readonly accepts: (table: TableId) => boolean;
  readonly onRow: (rows: RowColumns, slot: number) => void;
  readonly walSeqBySlot: Float64Array;
}

export function openContinuity(d: ContinuityDeps, intake: Intake) {
  const { config, log } = d;
  const ledger = new GapLedger();
  const sequencer = new Sequencer();
  const deadLetters = new DeadLetterBuffer({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 });
  const rest = new BinanceRest({ baseUrl: intake.restUrl, weightBudgetPerMin: config.restWeightBudget });
  const restBreaker = new CircuitBreaker({
    name: "rest",
    failureThreshold: 5,
    openDurationMs: 10_000,
    onStateChange: (c) => log.warn({ from: c.from, to: c.to }, "REST breaker"),
  });
  let ingest: Ingest | undefined;
  const repairer = new GapRepairer({
    rest,
    ledger,
    breaker: restBreaker,
    emit: (frame, recv) => ingest?.onFrame(frame, recv, -1, FrameTag.REST),
    maxAttempts: config.gapRepairMaxAttempts,
    nowUs,
    // A page of repaired rows lands in the ring at once: only below the level at which paused
    // sockets resume is there room for it (rows a full ring refuses would be a new gap).
    canRepair: () => d.wal.lastError === null && d.ring.fillRatio() <= RESUME_FILL,
    onError: (e, g) =>
      log.warn(
        { symbol: g.symbol, from: g.from_id, to: g.to_id, attempts: g.attempts },
        `gap repair: ${e.message}`,
      ),
  });
  ingest = new Ingest({
    ring: d.ring,
    lookup: d.lookup,
    symbols: d.symbols,
    sequencer,
    ledger,
    deadLetters,
    wal: d.wal,
    accepts: d.accepts,
    onRow: d.onRow,
    onGap: (g) => {
      log.info(
        { table: g.table, symbol: g.symbol, from: g.from_id, to: g.to_id, cause: g.cause },
        "gap detected",
      );
      repairer.enqueue(g);
    },
    onServerShutdown: (shard) => intake.source.rotate(shard, "serverShutdown"),
    gapMaxIds: config.gapMaxIds,
    nowUs,
    walSeqBySlot: d.walSeqBySlot,
  });
  return { ledger, sequencer, deadLetters, rest, restBreaker, repairer, ingest };
}

export type SourceSide = Intake & ReturnType<typeof openContinuity>;
