/**
 * Role `recorder`: source → ingest (decode, own duplicates dropped, continuity with REST repair,
 * WAL, ring) → bus sink (batches published to JetStream, acked before the WAL lets them go).
 * With `depth` in K2_STREAMS the order-book capture runs here as in a single process (its rows
 * through the same WAL and ring, so they are published like trades). No files, no queries: two
 * recorders of the same symbols make the capture redundant, and the writers keep each row once
 * (docs/SCALING.md).
 */
import { hostname } from "node:os";
import type { Config } from "../config/index.ts";
import { SymbolLookup } from "../decode/binance/index.ts";
import type { KlineColumns } from "../model/kline.ts";
import { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID } from "../model/tables.ts";
import { type Logger, Registry, registerProcessMetrics, stageLogger } from "../obs/index.ts";
import { type BooksSide, openBooks } from "../pipeline/books.ts";
import { openBus } from "../pipeline/bus.ts";
import { openKlinePublisher } from "../pipeline/bus-klines.ts";
import { openBusSink } from "../pipeline/bus-sink.ts";
import { openGovernor } from "../pipeline/governor.ts";
import { prepareDataDir } from "../pipeline/index.ts";
import { openIngest } from "../pipeline/ingest.ts";
import { openIntake, sourceSubsystem } from "../pipeline/source.ts";
import { once, registerChecks, type Subsystem } from "../pipeline/subsystem.ts";
import { Readiness } from "../resilience/readiness.ts";
import { Ring } from "../ring/ring.ts";
import type { RoleProcess } from "./role.ts";

export async function startRecorder(config: Config, logger: Logger): Promise<RoleProcess> {
  const registry = new Registry();
  const readiness = new Readiness();
  const watch = registerProcessMetrics(registry, config);
  const lag = watch.lag;
  const log = stageLogger(logger, "recorder");
  const symbols = new SymbolTable(config.symbols);
  const lookup = new SymbolLookup(symbols);
  const ring = new Ring(config.ringCapacity);
  const walSeqBySlot = new Float64Array(ring.capacity);
  // A recorder's id is in its batches' message ids (a retry is dropped, another recorder's is not).
  const recorderId = `${hostname()}-${process.pid}`;

  const intake = await openIntake({ config, log: stageLogger(logger, "source"), symbols, lookup });
  prepareDataDir(config.dataDir);
  const bus = await openBus(config, log, `k2-recorder-${recorderId}`);
  let onTick = (_fill: number) => {};
  const sink = openBusSink(config, log, symbols, ring, walSeqBySlot, bus, recorderId, {
    onTick: (fill) => onTick(fill),
  });
  // Rows JetStream has not acked yet are safe in the WAL: a long outage is no reason to shed quotes
  // (nothing could bring them back). Ring fill, memory and loop lag still degrade a recorder.
  const governor = openGovernor({ config, log, ring, intake, lag, writeLagMs: () => 0 });
  onTick = (fill) => governor.backpressure.update(fill);
  // Closed klines to the shard's writer, which judges each minute (docs/SCALING.md).
  const klines = config.streams.includes("kline")
    ? openKlinePublisher({ bus, symbols, shards: config.shards, recorderId, log })
    : undefined;
  let books: BooksSide | undefined;
  const ingest = openIngest(
    {
      config,
      log: stageLogger(logger, "source"),
      symbols,
      lookup,
      ring,
      storage: sink,
      walSeqBySlot,
      accepts: (t) => governor.degradation.shouldAccept(TABLE_BY_ID[t]),
      onRow: () => {},
      ...(klines ? { onKline: (k: KlineColumns, slot: number) => klines.push(k, slot) } : {}),
      ...(config.streams.includes("depth")
        ? { onDepth: (f: string, recv: number) => books?.capture.onFrame(f, recv) ?? false }
        : {}),
    },
    intake,
  );
  // No catalog here: a restart's downtime is not ledgered by the recorder; the query node finds
  // it in the stored chain of update ids (src/roles/book-chain.ts).
  books = openBooks({
    config,
    log: stageLogger(logger, "books"),
    symbols,
    lookup,
    ingest,
    ringCapacity: ring.capacity,
    registry,
  });
  const replay = await ingest.recover([]);
  const source = sourceSubsystem(intake, {
    config,
    log,
    delivering: false,
    rowsAccepted: () => ingest.ingest.accepted.reduce((a, b) => a + b, 0),
    management: () => ({
      ring_fill: Number(ring.fillRatio().toFixed(4)),
      gap_backlog: ingest.repairer.backlog,
      unacked_rows: sink.batcher.pendingRows(),
      degradation: governor.degradation.levelName,
    }),
  });
  readiness.register("config", () => ({ ok: true, reason: "role recorder" }));
  registerChecks(readiness, bus, sink, source, governor);
  registry.counter("k2_bus_batches_acked_total", "batches JetStream acked", () => sink.publisher.stats.acked);
  registry.counter(
    "k2_bus_batches_duplicate_total",
    "acks saying JetStream already held the batch (a retry)",
    () => sink.publisher.stats.duplicates,
  );
  registry.counter(
    "k2_bus_publish_retries_total",
    "publish attempts retried",
    () => sink.publisher.stats.retries,
  );
  registry.gauge("k2_bus_batches_in_flight", "batches awaiting their ack", () => sink.publisher.inFlight);
  registry.counter("k2_rows_published_total", "rows acked by JetStream", () => sink.batcher.rowsWritten);
  if (klines) {
    registry.counter(
      "k2_bus_klines_published_total",
      "closed klines JetStream acked",
      () => klines.stats.published,
    );
    registry.counter(
      "k2_bus_klines_failed_total",
      "closed klines given up (their minutes get no verdict)",
      () => klines.stats.failed,
    );
  }
  registry.gauge("k2_ring_fill_ratio", "ring fill 0..1", () => ring.fillRatio());
  registry.gauge("k2_degradation_level", "0 NORMAL .. 4 CIRCUIT_BREAK", () => governor.degradation.level);

  const parts: readonly Subsystem[] = [sink, ingest, ...(books ? [books] : []), governor, source];
  for (const p of parts) p.start();
  log.info(
    { recorder: recorderId, shards: intake.source.shardCount, replayed: replay.replayed },
    "recorder started",
  );
  return {
    role: "recorder",
    registry,
    readiness,
    degradation: governor.degradation,
    stop: once(async () => {
      await source.stop();
      await books?.stop();
      await ingest.stop();
      await governor.stop();
      await sink.stop();
      await klines?.stop();
      await bus.stop();
      await intake.sim?.stop();
      watch.stop();
      log.info("recorder stopped");
    }),
  };
}
