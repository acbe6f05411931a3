/**
 * Order-book rows as the book capture makes them (model/book-rows.ts: column use, composed ids,
 * flags), for the storage tests: per symbol a REST snapshot and diff events as book_deltas, top-3
 * snapshots as book_snapshots and one full-depth checkpoint (in chunks) as book_checkpoints. Event
 * times straddle a UTC midnight, so rows land in two date partitions. Each `BookCall` is what one
 * call to Ingest.onBookRows gets; `expected` lists every row once with its stored values.
 */
import {
  allocRowColumns,
  type BookTableName,
  bookCheckpointId,
  bookDeltaId,
  bookSnapshotId,
  FLAG_ASK,
  FLAG_BEYOND,
  FLAG_SNAPSHOT,
  FLAG_UNVERIFIED,
  formatDecimal,
  type RowColumns,
  Table,
} from "../../src/model/index.ts";

/** 2026-01-06T00:00:00Z in µs: the fixture's events run from 1 s before to 1 s after it. */
export const MIDNIGHT_US = Date.UTC(2026, 0, 6) * 1000;

export interface BookCall {
  readonly table: BookTableName;
  readonly symbol: string;
  readonly rows: RowColumns;
  readonly count: number;
}

/** A row as DuckDB reads it back: every stored column, decimals as text. */
export type StoredBookRow = Record<string, string | number | boolean>;

interface Row {
  id: number;
  first: number;
  last: number;
  trade: number;
  event: number;
  recv: number;
  price: bigint;
  qty: bigint;
  flags: number;
}

const side = (f: number) => (f & FLAG_ASK ? "ask" : "bid");

/** The stored row of `r` in `table` (model/book-rows.ts, sink/parquet/schema.ts TABLE_SLOTS). */
function stored(table: BookTableName, symbol: string, r: Row): StoredBookRow {
  const common = { exchange: "BINANCE", symbol, side: side(r.flags), price: formatDecimal(r.price) };
  const quantity = formatDecimal(r.qty);
  switch (table) {
    case "book_deltas":
      return {
        ...common,
        delta_id: r.id,
        first_update_id: r.first,
        last_update_id: r.last,
        quantity,
        is_snapshot: (r.flags & FLAG_SNAPSHOT) !== 0,
        event_time_us: r.event,
        recv_time_us: r.recv,
      };
    case "book_snapshots":
      return {
        ...common,
        snapshot_id: r.id,
        snapshot_time_us: r.event,
        update_id: r.first,
        level: r.last,
        quantity,
        is_verified: (r.flags & FLAG_UNVERIFIED) === 0,
        event_time_us: r.trade,
        recv_time_us: r.recv,
      };
    case "book_checkpoints":
      return {
        ...common,
        checkpoint_id: r.id,
        checkpoint_time_us: r.event,
        update_id: r.first,
        quantity,
        level_state: r.flags & FLAG_UNVERIFIED ? "unverified" : r.flags & FLAG_BEYOND ? "beyond" : "exact",
        known_time_us: r.trade,
      };
  }
}

function call(table: BookTableName, symbolId: number, symbol: string, rows: readonly Row[]): BookCall {
  const c = allocRowColumns(rows.length);
  rows.forEach((r, i) => {
    c.kind[i] = Table[table];
    c.symbol_id[i] = symbolId;
    c.id[i] = r.id;
    c.first_id[i] = r.first;
    c.last_id[i] = r.last;
    c.trade_time_us[i] = r.trade;
    c.event_time_us[i] = r.event;
    c.recv_time_us[i] = r.recv;
    c.dec0[i] = r.price;
    c.dec1[i] = r.qty;
    c.flags[i] = r.flags;
  });
  return { table, symbol, rows: c, count: rows.length };
}

const E8 = 100_000_000n;
/** The largest DECIMAL(18,8) value and the smallest step: both must survive exactly. */
const DECIMAL_MAX = 999_999_999_999_999_999n;

export interface BookFixture {
  /** In delivery order; per (table, symbol) the ids rise across calls. */
  readonly calls: readonly BookCall[];
  /** Every stored row once, keyed `table:symbol`. */
  readonly expected: ReadonlyMap<string, StoredBookRow[]>;
}

/** Rows of `symbols` (ids as in a SymbolTable built from the same list). */
export function bookFixture(symbols: readonly string[]): BookFixture {
  const calls: BookCall[] = [];
  const expected = new Map<string, StoredBookRow[]>();
  const add = (table: BookTableName, si: number, rows: Row[]) => {
    const symbol = symbols[si]!;
    calls.push(call(table, si, symbol, rows));
    const key = `${table}:${symbol}`;
    const list = expected.get(key) ?? [];
    for (const r of rows) list.push(stored(table, symbol, r));
    expected.set(key, list);
  };
  const t0 = MIDNIGHT_US - 1_000_000;
  // Interleaved per symbol, as a live capture of several books would deliver them.
  const lastUpdate = symbols.map((_, si) => 70_000_000_000 + si * 1_000);
  const lastE = symbols.map(() => t0);
  symbols.forEach((_, si) => {
    const L = lastUpdate[si]!;
    const snap: Row[] = [];
    for (let pos = 0; pos < 8; pos++) {
      const ask = pos >= 4;
      const k = BigInt(pos % 4);
      snap.push({
        id: bookDeltaId(L, pos),
        first: L,
        last: L,
        trade: 0,
        event: t0, // a snapshot's event time is its receive time (model/book-rows.ts)
        recv: t0,
        price: ask ? 6_500_001n * 1_000_000n + k * 1_000_000n : 6_500_000n * 1_000_000n - k * 1_000_000n,
        qty: 123_456_789n + k * E8 + BigInt(si),
        flags: FLAG_SNAPSHOT | (ask ? FLAG_ASK : 0),
      });
    }
    add("book_deltas", si, snap);
  });
  for (let e = 1; e <= 20; e++) {
    symbols.forEach((_, si) => {
      const U = lastUpdate[si]! + 1;
      const u = lastUpdate[si]! + 3; // an event may carry several update ids
      lastUpdate[si] = u;
      const event = t0 + e * 100_000;
      lastE[si] = event;
      const rows: Row[] = [];
      const levels = 1 + (e % 3);
      for (let pos = 0; pos < levels; pos++) {
        const ask = (e + pos) % 2 === 1;
        rows.push({
          id: bookDeltaId(u, pos),
          first: U,
          last: u,
          trade: 0,
          event,
          recv: event + 437,
          price: e === 7 && pos === 0 ? DECIMAL_MAX : 6_499_990n * 1_000_000n + BigInt(e * 10 + pos),
          qty: pos === 1 ? 0n : e === 11 ? 1n : BigInt(e) * E8 + 5n, // 0 = level removed
          flags: ask ? FLAG_ASK : 0,
        });
      }
      add("book_deltas", si, rows);
    });
    // A top-3 snapshot every 500 ms, on aligned instants (K2_BOOK_SNAPSHOT_MS).
    if (e % 5 === 0) {
      const ms = (t0 + e * 100_000) / 1000;
      symbols.forEach((_, si) => {
        const rows: Row[] = [];
        for (const ask of [false, true])
          for (let level = 0; level < 3; level++)
            rows.push({
              id: bookSnapshotId(ms, ask, level),
              first: lastUpdate[si]!,
              last: level,
              trade: lastE[si]! - 40_000, // the last applied event's E lags the instant
              event: ms * 1000,
              recv: lastE[si]! + 437,
              price: (ask ? 6_500_100n : 6_499_900n) * 1_000_000n + BigInt(ask ? level : -level),
              qty: BigInt(level + 1) * E8 + BigInt(e),
              flags: (ask ? FLAG_ASK : 0) | (level === 2 ? FLAG_UNVERIFIED : 0),
            });
        add("book_snapshots", si, rows);
      });
    }
  }
  // One checkpoint per symbol at the aligned second after midnight, 12 levels in 3 chunks of 4.
  const s = MIDNIGHT_US / 1_000_000 + 1;
  symbols.forEach((_, si) => {
    for (let chunk = 0; chunk < 3; chunk++) {
      const rows: Row[] = [];
      for (let p = chunk * 4; p < chunk * 4 + 4; p++) {
        const state = p % 3; // exact, beyond, unverified
        rows.push({
          id: bookCheckpointId(s, p),
          first: lastUpdate[si]!,
          last: 0,
          trade: t0 + p * 1_000, // when the level was last known
          event: s * 1_000_000,
          recv: s * 1_000_000 + 900,
          price: 6_400_000n * 1_000_000n + BigInt(p),
          qty: BigInt(p + 1) * 7n,
          flags: (p >= 6 ? FLAG_ASK : 0) | (state === 1 ? FLAG_BEYOND : state === 2 ? FLAG_UNVERIFIED : 0),
        });
      }
      add("book_checkpoints", si, rows);
    }
  });
  return { calls, expected };
}
