/**
 * A writer's REST repair of a kline shortfall (docs/SCALING.md "Completeness in the roles"): the
 * writer's KlineReconciler opens `kline_shortfall` entries in a ledger of its own (in memory: the
 * recorders keep the journaled gap ledger), the single process's GapRepairer fetches the ids from
 * `historicalTrades` under this writer's REST weight budget, and the repaired rows are published
 * on the shard's own trades subject. So they reach the files through the one exactly-once path a
 * writer has: its bus consumer drops every (table, symbol, id) already stored or gathered twice
 * (a recorder's copy, its own repair of the same ids), writes, and only then acks.
 *
 * Why the bus and not a file written here: a second writer path beside the consumer would need
 * its own stored-id check racing the consumer's gathering (both could hold one id); through the
 * bus one loop decides, and the rows are in JetStream (replicated) before the ledger calls them
 * repaired... almost: a page is published when the repairer settles the entry, so a publish that
 * fails after its tries leaves the minute short; the reconciler then judges it `mismatch` once its
 * wait for the rows (KLINE_UNREPAIRED_GRACE_US) is over.
 */
import { batchMsgId, encodeRows, subjectOf } from "../bus/index.ts";
import type { Config } from "../config/index.ts";
import { DecodeStatus, decodeFrame, SymbolLookup } from "../decode/binance/index.ts";
import { GapLedger } from "../ingest/gap-ledger.ts";
import { GapRepairer } from "../ingest/gap-repair.ts";
import { allocRowColumns, copyRow, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { Table } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import type { Registry } from "../obs/metrics.ts";
import type { Bus } from "../pipeline/bus.ts";
import { SIDE_PUBLISH_RETRY_MS, SIDE_PUBLISH_TRIES } from "../pipeline/bus-klines.ts";
import { CircuitBreaker } from "../resilience/index.ts";
import { nowUs } from "../source/binance/connection.ts";
import { BinanceRest, REST_MAX_LIMIT } from "../source/binance/rest.ts";

/** Batches being published at once: the repairer asks for its next page only below this. */
const REPAIR_MAX_IN_FLIGHT = 8;

/** One batch of repaired rows of one symbol, encoded for the bus. */
export interface RepairBatch {
  readonly symbol: string;
  readonly firstId: number;
  readonly lastId: number;
  readonly rows: number;
  readonly body: Uint8Array;
}

/**
 * The repairer's synthetic trade frames (ingest/gap-repair.ts tradeFrame, µs times) decoded by the
 * stream decoder into rows, as a single process's ingest decodes them, and cut into bus batches:
 * at most one REST page (REST_MAX_LIMIT rows) and one symbol per batch.
 */
export class RepairRows {
  readonly #rows: RowColumns = allocRowColumns(REST_MAX_LIMIT);
  readonly #lookup: SymbolLookup;
  #known: number;
  #n = 0;
  /** Frames the decoder refused (a REST answer K2 cannot read: never published). */
  refused = 0;

  /** `symbols` holds every symbol asked for (the reconciler's minutes are of interned symbols). */
  constructor(readonly symbols: SymbolTable) {
    this.#lookup = new SymbolLookup(symbols);
    this.#known = symbols.size;
  }

  /** One frame; a full batch, or another symbol's batch, is handed back first. */
  add(frame: string, recvTimeUs: number): RepairBatch | undefined {
    if (this.symbols.size !== this.#known) {
      // A writer's table grows as its shard's symbols arrive: the lookup is rebuilt, off the hot path.
      this.#lookup.refresh();
      this.#known = this.symbols.size;
    }
    let out = this.#n === REST_MAX_LIMIT ? this.take() : undefined;
    const r = this.#rows;
    const s = decodeFrame(frame, this.#lookup, r, this.#n, recvTimeUs, true);
    if (s !== DecodeStatus.OK || r.kind[this.#n] !== Table.trades) {
      this.refused++;
      return out;
    }
    if (this.#n > 0 && r.symbol_id[this.#n] !== r.symbol_id[0]) {
      // Another symbol's first row: the batch before it goes, this row starts the next one.
      out = this.#batch(this.#n);
      copyRow(r, this.#n, r, 0);
      this.#n = 1;
    } else this.#n++;
    return out;
  }

  /** The rows gathered so far as one batch (none: undefined), and an empty buffer. */
  take(): RepairBatch | undefined {
    const n = this.#n;
    this.#n = 0;
    return n === 0 ? undefined : this.#batch(n);
  }

  /** Rows [0, n) encoded (encodeRows copies them: the buffer is free again at once). */
  #batch(n: number): RepairBatch {
    const ids = this.#rows.id;
    let first = ids[0]!;
    let last = first;
    for (let i = 1; i < n; i++) {
      first = Math.min(first, ids[i]!);
      last = Math.max(last, ids[i]!);
    }
    return {
      symbol: this.symbols.name(this.#rows.symbol_id[0]!),
      firstId: first,
      lastId: last,
      rows: n,
      body: encodeRows(this.#rows, 0, n, "trades"),
    };
  }
}

export function openWriterRepair(d: {
  readonly config: Config;
  readonly log: Logger;
  readonly bus: Bus;
  readonly symbols: SymbolTable;
  readonly registry: Registry;
  /** The msg-id prefix of this writer's batches (its shard name): guards its own retries only. */
  readonly writerName: string;
}) {
  const { config, log } = d;
  // K2_REST_WEIGHT_BUDGET is per process: recorders and writers behind one IP share Binance's 6000.
  const rest = new BinanceRest({
    baseUrl: config.binanceRestUrl,
    weightBudgetPerMin: config.restWeightBudget,
  });
  const ledger = new GapLedger();
  const rows = new RepairRows(d.symbols);
  const stats = { batches: 0, rows: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const publish = async (b: RepairBatch) => {
    const subject = subjectOf("trades", b.symbol, config.shards);
    const msgID = batchMsgId(d.writerName, "trades", b.symbol, b.firstId, b.lastId);
    for (let attempt = 1; ; attempt++) {
      try {
        await d.bus.js.publish(subject, b.body, { msgID });
        stats.batches++;
        stats.rows += b.rows;
        return;
      } catch (e) {
        if (attempt >= SIDE_PUBLISH_TRIES || stopped) {
          stats.failed++;
          log.warn(
            { symbol: b.symbol, from: b.firstId, to: b.lastId, attempts: attempt },
            `repaired rows not published (the minute will be a mismatch): ${(e as Error).message}`,
          );
          return;
        }
        await Bun.sleep(SIDE_PUBLISH_RETRY_MS);
      }
    }
  };
  const send = (b: RepairBatch | undefined) => {
    if (!b) return;
    const p = publish(b).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  // The repairer settles an entry after its last page was emitted: the rest of the rows go then.
  ledger.onChange = (e) => {
    if (e.state !== "pending" && e.state !== "repairing") send(rows.take());
  };
  const repairer = new GapRepairer({
    rest,
    ledger,
    emit: (frame, recv) => send(rows.add(frame, recv)),
    breaker: new CircuitBreaker({
      name: "rest",
      failureThreshold: 5,
      openDurationMs: 10_000,
      onStateChange: (c) => log.warn({ from: c.from, to: c.to }, "REST breaker"),
    }),
    maxAttempts: config.gapRepairMaxAttempts,
    // A page is up to 1000 rows in memory until JetStream has it: a slow cluster slows the repair.
    canRepair: () => inFlight.size < REPAIR_MAX_IN_FLIGHT,
    nowUs,
    onError: (e, g) =>
      log.warn(
        { symbol: g.symbol, from: g.from_id, to: g.to_id, attempts: g.attempts },
        `kline repair: ${e.message}`,
      ),
  });
  d.registry.counter(
    "k2_kline_repair_rows_total",
    "trade rows a writer fetched from REST for kline shortfalls and published to its shard",
    () => stats.rows,
  );
  d.registry.counter(
    "k2_kline_repair_publish_failed_total",
    "batches of repaired rows given up after their tries",
    () => stats.failed,
  );
  // The single process's names (pipeline/metrics.ts): one dashboard reads either.
  d.registry.counter("k2_rest_requests_total", "REST requests sent", () => rest.requests);
  d.registry.counter("k2_rest_rate_limited_total", "REST 429 answers", () => rest.rateLimited);
  d.registry.gauge(
    "k2_rest_used_weight",
    "REST request weight used in the current minute (own count or X-MBX-USED-WEIGHT-1M, the higher)",
    () => rest.usedWeight,
  );
  d.registry.counter("k2_gap_ids_repaired_total", "ids repaired from REST", () => repairer.repairedIds);

  return {
    rest,
    stats,
    /** The reconciler's `repair` dependency. */
    repair: { ledger, enqueue: (g: Parameters<GapRepairer["enqueue"]>[0]) => repairer.enqueue(g) },
    async stop(): Promise<void> {
      stopped = true;
      repairer.stop();
      await repairer.whenIdle();
      await Promise.all(inFlight);
    },
  };
}
