/**
 * A recorder's storage: the same WAL and batcher as a single process, but a batch is written by
 * publishing it to JetStream, and counts as written once JetStream acked it (stored on a quorum).
 * Until then its rows stay in the WAL; while the cluster is away publishes wait, batches pile up,
 * the batcher stops draining, the ring fills and backpressure pauses the sockets — a NATS outage
 * behaves like a full disk. After a restart WAL replay sends again what was not trimmed; the
 * writers drop the copies they already hold.
 */
import { BusPublisher, batchMsgId, encodeRows } from "../bus/index.ts";
import type { Config } from "../config/index.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import type { Check } from "../resilience/readiness.ts";
import type { Ring } from "../ring/ring.ts";
import { type Batch, Batcher } from "../sink/batcher.ts";
import { DlqPersister } from "../sink/dlq/index.ts";
import type { Bus } from "./bus.ts";
import { batchPool, consume, drainBatcher, openWal } from "./storage.ts";
import { once, Timers } from "./subsystem.ts";

/**
 * Rows per message: NATS refuses payloads over 1 MB by default; 8192 quotes take ~460 KB encoded
 * (src/bus/codec.ts), trades less.
 */
export const BUS_BATCH_MAX_ROWS = 8192;
/** Batches awaiting their ack at once; more wait for room (and keep their rows in the WAL). */
const MAX_IN_FLIGHT = 64;
const ACK_TIMEOUT_MS = 5000;
const ERROR_LOG_INTERVAL_MS = 10_000;

export function openBusSink(
  config: Config,
  log: Logger,
  symbols: SymbolTable,
  ring: Ring,
  walSeqBySlot: Float64Array,
  bus: Bus,
  recorderId: string,
  opts: { readonly onTick?: (fill: number) => void } = {},
) {
  const wal = openWal(config, log);
  const acked = new Map<number, () => void>();
  let lastErrorLogMs = Number.NEGATIVE_INFINITY;
  const publisher = new BusPublisher(bus.js, {
    shards: config.shards,
    maxInFlight: MAX_IN_FLIGHT,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    onAcked: (b) => {
      acked.get(b.token)?.();
      acked.delete(b.token);
    },
    onError: (e) => {
      const now = performance.now();
      if (now - lastErrorLogMs < ERROR_LOG_INTERVAL_MS) return;
      lastErrorLogMs = now;
      log.warn(
        { kind: e.kind, in_flight: publisher.inFlight },
        `bus publish failing, retrying: ${e.message}`,
      );
    },
  });
  let token = 0;
  const batcher = new Batcher(
    ring,
    walSeqBySlot,
    {
      async write(b: Batch) {
        const table = TABLE_BY_ID[b.kind];
        const symbol = symbols.name(b.symbolId);
        const body = encodeRows(b.rows, 0, b.count, table);
        const msgId = batchMsgId(recorderId, table, symbol, b.rows.id[0]!, b.rows.id[b.count - 1]!);
        for (;;) {
          await publisher.whenRoom();
          const t = ++token;
          const done = new Promise<void>((r) => acked.set(t, r));
          if (publisher.send({ table, symbol, body, msgId, token: t })) return done;
          acked.delete(t);
        }
      },
    },
    {
      maxRows: Math.min(config.batchMaxRows, BUS_BATCH_MAX_ROWS),
      flushIntervalMs: config.flushIntervalMs,
      // A batch per (table, symbol) at once, as in a single process: a fixed 64 stalls the ring
      // once symbols × tables pass it (three book tables per symbol with depth).
      ...batchPool(config.symbols.length, config.streams),
    },
  );
  const dlq = DlqPersister.open({ dir: `${config.dataDir}/dlq`, maxTotalBytes: config.deadLetterMaxBytes });
  const checks: Record<string, Check> = {
    sink: () => {
      if (wal.lastError) return { ok: false, reason: `WAL: ${wal.lastError.message}` };
      if (publisher.lastError && publisher.inFlight > 0)
        return {
          ok: false,
          reason: `bus: ${publisher.lastError.message} (${publisher.inFlight} batches waiting)`,
        };
      return { ok: true, reason: `${batcher.pendingRows()} rows not yet acked` };
    },
  };
  const timers = new Timers();
  return {
    name: "bus-sink",
    wal,
    batcher,
    dlq,
    publisher,
    checks,
    start() {
      consume(timers, batcher, wal, opts.onTick);
    },
    /** Every accepted row acked by JetStream, then the WAL is retired; what is not stays in it. */
    stop: once(async () => {
      timers.clear();
      const drained = await drainBatcher(batcher, config, log);
      publisher.close();
      if (drained) await wal.retire();
      else await wal.close();
      dlq.close();
      log.info(
        { batches: publisher.stats.acked, duplicates: publisher.stats.duplicates },
        "bus sink stopped",
      );
    }),
  };
}
