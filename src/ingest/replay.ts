/**
 * Start-up recovery: rows in the WAL that are not yet in a visible Parquet file go back into the
 * ring, each exactly once, so a `kill -9` at any moment loses nothing and duplicates nothing.
 * 1. Decode every WAL record once to learn which (table, symbol, id) it holds.
 * 2. Ask storage which of those ids are already in visible files (exact ids, not file ranges:
 *    repaired rows make ranges overlap).
 * 3. Feed the rest into the ring in WAL order (waiting for the sink when the ring is full).
 * 4. Seed the sequencer with the highest id known per (table, symbol), so the first live frame
 *    reveals the downtime as a gap, and ledger every hole inside the recovered range for repair
 *    (trades and agg trades only: quote and order-book ids are not consecutive).
 * Order-book records (tag BOOK_ROWS_TAG) hold rows, not a frame: each of their rows goes the
 * same way as a decoded frame's row.
 */
import { DecodeStatus, decodeFrame, type SymbolLookup } from "../decode/binance/index.ts";
import { allocRowColumns, copyRow, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, Table, type TableId, type TableName } from "../model/tables.ts";
import type { Ring } from "../ring/ring.ts";
import { BOOK_ROWS_TAG, BookRecordDecoder } from "./book-rows.ts";
import type { GapEntry, GapLedger } from "./gap-ledger.ts";
import type { Sequencer } from "./sequencer.ts";

export interface WalRecordLike {
  seq: number;
  recvTimeUs: number;
  tag: number;
  payload: string;
}

export interface StoredIds {
  /** Ids of (table, symbol) stored in visible files within [from, to]. */
  idsBetween(table: TableName, symbol: string, from: number, to: number): Promise<Set<number>>;
  /** Highest stored id of (table, symbol), or -1. */
  maxId(table: TableName, symbol: string): number;
}

export interface ReplayDeps {
  readonly records: () => Iterable<WalRecordLike>;
  readonly lookup: SymbolLookup;
  readonly symbols: SymbolTable;
  readonly ring: Ring;
  readonly walSeqBySlot: Float64Array;
  readonly stored: StoredIds;
  readonly sequencer: Sequencer;
  readonly ledger: GapLedger;
  readonly onGap: (gap: GapEntry) => void;
  /** Make room in the ring (drain into the sink); awaited when the ring is full. */
  readonly makeRoom: () => Promise<void>;
  readonly nowUs: () => number;
  readonly gapMaxIds: number;
  /** Called with each replayed row (the query engine's hot window). */
  readonly onRow?: (rows: RowColumns, slot: number) => void;
}

export interface ReplayReport {
  records: number;
  replayed: number;
  alreadyStored: number;
  duplicatesInWal: number;
  undecodable: number;
  holes: number;
}

interface Range {
  min: number;
  max: number;
  ids: Set<number>;
}

export async function replayWal(d: ReplayDeps): Promise<ReplayReport> {
  const report: ReplayReport = {
    records: 0,
    replayed: 0,
    alreadyStored: 0,
    duplicatesInWal: 0,
    undecodable: 0,
    holes: 0,
  };
  const scratch = allocRowColumns(1);
  const book = new BookRecordDecoder(allocRowColumns(256));
  const ranges = new Map<number, Range>(); // key: kind * 65536 + symbol id
  // A record's rows: one decoded frame in `scratch`, or the rows of a book record in `book.rows`
  // (ingest/book-rows.ts). `cols` is where they are; returns how many, or -1 (undecodable) / 0.
  let cols = scratch;
  const decode = (r: WalRecordLike): number => {
    if (r.tag === BOOK_ROWS_TAG) {
      const n = book.decode(r.payload, d.symbols);
      cols = book.rows;
      return n;
    }
    cols = scratch;
    const s = decodeFrame(r.payload, d.lookup, scratch, 0, r.recvTimeUs, true);
    return s === DecodeStatus.OK ? 1 : s === DecodeStatus.CONTROL ? 0 : -1;
  };

  for (const r of d.records()) {
    report.records++;
    const n = decode(r);
    for (let i = 0; i < n; i++) {
      const key = cols.kind[i]! * 65536 + cols.symbol_id[i]!;
      const id = cols.id[i]!;
      const range = ranges.get(key) ?? { min: id, max: id, ids: new Set<number>() };
      range.min = Math.min(range.min, id);
      range.max = Math.max(range.max, id);
      ranges.set(key, range);
    }
  }
  const stored = new Map<number, Set<number>>();
  for (const [key, range] of ranges) {
    const { table, symbol } = split(key, d.symbols);
    stored.set(key, await d.stored.idsBetween(table, symbol, range.min, range.max));
  }

  for (const r of d.records()) {
    const n = decode(r);
    if (n < 0) report.undecodable++;
    for (let i = 0; i < n; i++) {
      const key = cols.kind[i]! * 65536 + cols.symbol_id[i]!;
      const id = cols.id[i]!;
      const range = ranges.get(key)!;
      if (stored.get(key)?.has(id)) {
        report.alreadyStored++;
        range.ids.add(id);
        continue;
      }
      if (range.ids.has(id)) {
        report.duplicatesInWal++;
        continue;
      }
      range.ids.add(id);
      let slot = d.ring.claim();
      while (slot < 0) {
        await d.makeRoom();
        slot = d.ring.claim();
      }
      copyRow(cols, i, d.ring.rows, slot);
      d.walSeqBySlot[slot] = r.seq;
      d.ring.commit();
      d.onRow?.(d.ring.rows, slot);
      report.replayed++;
    }
  }

  for (const [key, range] of ranges) {
    const { kind, table, symbol, symbolId } = split(key, d.symbols);
    const have = range.ids;
    for (const id of stored.get(key) ?? []) have.add(id);
    d.sequencer.seed(kind, symbolId, Math.max(range.max, d.stored.maxId(table, symbol)));
    // Only trade ids are consecutive: quotes and order-book ids skip by nature, so no holes.
    if (kind !== Table.trades && kind !== Table.agg_trades) continue;
    report.holes += ledgerHoles(d, table as "trades" | "agg_trades", symbol, range.min, range.max, have);
  }
  return report;
}

/** Open a "restart" gap for every run of ids in [min, max] that neither storage nor the WAL has. */
function ledgerHoles(
  d: ReplayDeps,
  table: "trades" | "agg_trades",
  symbol: string,
  min: number,
  max: number,
  have: Set<number>,
): number {
  let holes = 0;
  let start = -1;
  for (let id = min; id <= max + 1; id++) {
    const missing = id <= max && !have.has(id);
    if (missing && start < 0) start = id;
    if (!missing && start >= 0) {
      holes++;
      const e = d.ledger.open(table, symbol, start, id - 1, "restart", d.nowUs());
      if (id - start > d.gapMaxIds)
        d.ledger.set(e, "unrepaired", d.nowUs(), "gap larger than K2_GAP_MAX_IDS");
      else d.onGap(e);
      start = -1;
    }
  }
  return holes;
}

function split(key: number, symbols: SymbolTable) {
  const kind = Math.floor(key / 65536) as TableId;
  const symbolId = key % 65536;
  return { kind, symbolId, table: TABLE_BY_ID[kind], symbol: symbols.name(symbolId) };
}
