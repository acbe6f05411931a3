/**
 * A writer shard's consumer: fetch the shard's messages (src/bus/reader.ts), gather their rows per
 * (table, symbol, UTC day) for up to K2_FLUSH_INTERVAL_MS or K2_BATCH_MAX_ROWS rows, drop every
 * row whose (table, symbol, id) is already in a file or twice in the gathering (the other
 * recorder's copy, a redelivery after a crash, a recorder's WAL replay), write one file per group
 * sorted by id, and only then ack the messages. A writer killed between its file and its ack gets
 * the messages again and finds their rows in the file: exactly once, by id, not by luck.
 * Order-book rows are kept by whole parts of their units instead (bus-book-units.ts says why).
 */

import {
  BusError,
  BusReader,
  decodeRows,
  encodedRowCount,
  type InMessage,
  type KlineMessage,
} from "../bus/index.ts";
import type { Catalog } from "../catalog/index.ts";
import { storedIdsOf } from "../catalog/views.ts";
import type { Config } from "../config/index.ts";
import { allocRowColumns, copyRow, growRows, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { type BookTableName, isBookTable, Table, type TableName } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import { dayOf } from "../sink/batcher.ts";
import { appendRow, createBatch, type ParquetWriterPool } from "../sink/parquet/index.ts";
import type { ObjectMirror } from "../sink/s3/index.ts";
import type { Bus } from "./bus.ts";
import { keepBookParts, unitStart } from "./bus-book-units.ts";
import { BUS_BATCH_MAX_ROWS } from "./bus-sink.ts";
import { once } from "./subsystem.ts";

/** Messages per fetch; a fetch waits at most FETCH_WAIT_MS when fewer are there. */
const FETCH_MAX = 256;
const FETCH_WAIT_MS = 1000;
const RETRY_MS = 500;
/**
 * A fetch whose server died under it can wait forever; past its expiry plus this it is given up
 * (anything it still delivers is never acked, so it comes again).
 */
const FETCH_GRACE_MS = 3000;

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BusError("unreachable", `no answer to a fetch within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

interface Group {
  readonly table: TableName;
  readonly symbol: string;
  readonly symbolId: number;
  rows: RowColumns;
  count: number;
  /** The message (index in the gathering) each row came in: book rows are kept by message part. */
  msg: number[];
}

export interface BusWriterDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly bus: Bus;
  readonly catalog: Catalog;
  readonly pool: ParquetWriterPool;
  readonly symbols: SymbolTable;
  /** K2_DATA_DIR=s3://…: each file is stored there before its messages are acked. */
  readonly mirror?: ObjectMirror;
  /**
   * Adds the files `k2 backfill` landed for this shard to the catalog (catalog/adopt.ts), run
   * before each flush: the stored-id check then sees a backfilled row the bus brings again.
   */
  readonly adopt?: () => Promise<unknown>;
  /**
   * A recorder's copy of a closed kline of this shard (roles/writer-klines.ts queues it for its
   * verdict). Absent: klines are acked and dropped. Throws on a malformed body (counted as such).
   */
  readonly onKline?: (m: KlineMessage) => void;
}

export async function openBusWriter(d: BusWriterDeps) {
  const { config, log, catalog } = d;
  const shard = config.writerShard - 1;
  // A gathering lasts one flush interval and its files a moment more: acks must come before redelivery.
  if (config.natsAckWaitMs < 2 * config.flushIntervalMs)
    throw new RangeError(
      `K2_NATS_ACK_WAIT_MS=${config.natsAckWaitMs} must be at least 2 x K2_FLUSH_INTERVAL_MS (${config.flushIntervalMs})`,
    );
  let reader = await BusReader.open(d.bus.nc, d.bus.js, d.bus.jsm, {
    stream: config.natsStream,
    shard,
    shards: config.shards,
    ackWaitMs: config.natsAckWaitMs,
    maxAckPending: 4 * FETCH_MAX,
  });
  const stored = storedIdsOf(catalog);
  // One message's rows land here first (a recorder's batch is at most BUS_BATCH_MAX_ROWS).
  let scratch = allocRowColumns(BUS_BATCH_MAX_ROWS);
  const groups = new Map<string, Group>();
  let gathered: InMessage[] = [];
  let gatheredRows = 0;
  let firstAtMs = 0;
  const stats = { messages: 0, rowsIn: 0, rowsWritten: 0, duplicates: 0, files: 0, malformed: 0 };

  const add = (m: InMessage) => {
    if (m.kind === "kline") {
      // Handed to the shard's kline judge (roles/writer-klines.ts); acked with the gathering.
      d.onKline?.(m);
      return;
    }
    const n = encodedRowCount(m.body);
    const symbolId = d.symbols.intern(m.symbol);
    // Rows of one message share a symbol but may straddle midnight: decode, then split by day.
    if (n > scratch.capacity) scratch = allocRowColumns(n);
    decodeRows(m.body, m.table, scratch, 0, symbolId);
    for (let i = 0; i < n; i++) {
      const key = `${m.table}|${m.symbol}|${dayOf(scratch.event_time_us[i]!)}`;
      let g = groups.get(key);
      if (!g) {
        g = {
          table: m.table,
          symbol: m.symbol,
          symbolId,
          rows: allocRowColumns(Math.max(n, 1024)),
          count: 0,
          msg: [],
        };
        groups.set(key, g);
      }
      if (g.count >= g.rows.capacity) g.rows = growRows(g.rows, g.count, 2 * g.rows.capacity);
      g.msg.push(gathered.length);
      copyRow(scratch, i, g.rows, g.count++);
    }
    gatheredRows += n;
    stats.rowsIn += n;
  };

  /** One file per group, rows sorted by id, none already stored or repeated; then the acks. */
  const flush = async () => {
    await d.adopt?.();
    for (const g of groups.values()) await writeGroup(g);
    groups.clear();
    await reader.commit(gathered);
    stats.messages += gathered.length;
    gathered = [];
    gatheredRows = 0;
  };

  /** Row indexes to write, sorted by id: none already stored or repeated. */
  const keptRows = async (g: Group): Promise<number[]> => {
    const ids = g.rows.id;
    const order = Array.from({ length: g.count }, (_, i) => i).sort((a, b) => ids[a]! - ids[b]!);
    const lo = ids[order[0]!]!;
    const hi = ids[order[g.count - 1]!]!;
    if (isBookTable(Table[g.table])) {
      const table = g.table as BookTableName;
      const have = await stored.idsBetween(table, g.symbol, unitStart(table, lo), hi);
      return keepBookParts(table, ids, g.msg, g.count, have);
    }
    const have = await stored.idsBetween(g.table, g.symbol, lo, hi);
    const keep: number[] = [];
    let last = Number.NaN;
    for (const i of order) {
      const id = ids[i]!;
      if (id === last || have.has(id)) continue;
      last = id;
      keep.push(i);
    }
    return keep;
  };

  const writeGroup = async (g: Group) => {
    const keep = await keptRows(g);
    stats.duplicates += g.count - keep.length;
    if (keep.length === 0) return;
    const day = dayOf(g.rows.event_time_us[keep[0]!]!);
    const tb = createBatch({ table: g.table, symbol: g.symbol, symbolId: g.symbolId, day }, keep.length);
    for (const i of keep) appendRow(tb, g.rows, i);
    const info = await d.pool.write(tb);
    catalog.add(info);
    if (d.mirror) {
      // Acked only once stored: the pin keeps compaction from deleting the file meanwhile.
      const release = catalog.pin([info.path]);
      try {
        if (!(await d.mirror.upload(info)))
          throw new Error(`object store: ${info.name} not stored (stopping)`);
      } finally {
        release();
      }
    }
    stats.rowsWritten += keep.length;
    stats.files++;
  };

  let running = false;
  let loop: Promise<void> | undefined;
  const run = async () => {
    while (running) {
      try {
        const wait = gathered.length === 0 ? FETCH_WAIT_MS : Math.max(1000, config.flushIntervalMs);
        const f = await withDeadline(reader.fetch(FETCH_MAX, wait), wait + FETCH_GRACE_MS);
        for (const r of f.rejected) {
          stats.malformed++;
          log.error({ subject: r.subject, seq: r.streamSeq }, `bus message refused: ${r.error.message}`);
        }
        for (const m of f.messages) {
          try {
            add(m);
            gathered.push(m);
          } catch (e) {
            // A body no recorder of this build writes: never retried, never half-stored.
            stats.malformed++;
            log.error(
              { subject: `${m.kind === "rows" ? m.table : m.kind}.${m.symbol}`, seq: m.streamSeq },
              `bus message refused: ${(e as Error).message}`,
            );
            gathered.push(m);
          }
        }
        if (gathered.length > 0 && firstAtMs === 0) firstAtMs = performance.now();
        const due =
          performance.now() - firstAtMs >= config.flushIntervalMs || gatheredRows >= config.batchMaxRows;
        if (gathered.length > 0 && (due || !running)) {
          await flush();
          firstAtMs = 0;
        }
      } catch (e) {
        // The cluster away or a write failing: nothing was acked, so everything comes again.
        log.warn(
          { kind: e instanceof BusError ? e.kind : "write" },
          `writer: ${(e as Error).message}; retrying`,
        );
        groups.clear();
        gathered = [];
        gatheredRows = 0;
        firstAtMs = 0;
        reader.close();
        await Bun.sleep(RETRY_MS);
        if (running) await reopen();
      }
    }
  };
  const reopen = async () => {
    try {
      reader = await BusReader.open(d.bus.nc, d.bus.js, d.bus.jsm, reader.opts);
    } catch (e) {
      log.warn(`writer: consumer not reachable: ${(e as Error).message}`);
    }
  };
  return {
    name: "bus-writer",
    stats,
    checks: {},
    start() {
      running = true;
      loop = run();
    },
    /** Finish the gathering in hand (written and acked), then stop fetching. */
    stop: once(async () => {
      running = false;
      await loop;
      reader.close();
      log.info(stats, "bus writer stopped");
    }),
  };
}
