import { describe, expect, test } from "bun:test";
import { SymbolLookup } from "../decode/binance/index.ts";
import { bookDeltaId, FLAG_ASK } from "../model/book-rows.ts";
import { allocRowColumns, type RowColumns } from "../model/row.ts";
import { SymbolTable } from "../model/symbols.ts";
import { Table, type TableId } from "../model/tables.ts";
import { DeadLetterBuffer } from "../ring/dead-letter.ts";
import { Ring } from "../ring/ring.ts";
import { BOOK_ROWS_TAG, BookRecordDecoder } from "./book-rows.ts";
import { GapLedger } from "./gap-ledger.ts";
import { BookCommit, Ingest } from "./ingest.ts";
import { Sequencer } from "./sequencer.ts";

/** `n` delta rows of one event with update id `u` (positions 0..n-1), symbol id `sym`. */
function event(u: number, n: number, sym = 0): RowColumns {
  const r = allocRowColumns(n);
  for (let i = 0; i < n; i++) {
    r.kind[i] = Table.book_deltas;
    r.symbol_id[i] = sym;
    r.id[i] = bookDeltaId(u, i);
    r.first_id[i] = u - 2;
    r.last_id[i] = u;
    r.event_time_us[i] = 1_767_657_600_000_000 + u;
    r.recv_time_us[i] = 1_767_657_600_000_500 + u;
    r.dec0[i] = 6_500_000_000_000n + BigInt(i);
    r.dec1[i] = BigInt(i);
    r.flags[i] = i % 2 ? FLAG_ASK : 0;
  }
  return r;
}

function setup(opts: { ring?: number; walRefuses?: boolean; accepts?: (t: TableId) => boolean } = {}) {
  const symbols = new SymbolTable(["BTCUSDT", "ETHUSDT"]);
  const ring = new Ring(opts.ring ?? 64);
  const wal: { payload: string; tag: number }[] = [];
  const ledger = new GapLedger();
  const sequencer = new Sequencer();
  const ingest = new Ingest({
    ring,
    lookup: new SymbolLookup(symbols),
    symbols,
    sequencer,
    ledger,
    deadLetters: new DeadLetterBuffer({ maxEntries: 10 }),
    wal: {
      append: (payload, _t, tag) => (opts.walRefuses ? -1 : wal.push({ payload, tag })),
      appendBytes: () => -1, // book rows come as rows, never as frame bytes
    },
    onGap: () => {},
    onServerShutdown: () => {},
    ...(opts.accepts ? { accepts: opts.accepts } : {}),
    gapMaxIds: 1000,
    nowUs: () => 1,
  });
  return { symbols, ring, wal, ledger, sequencer, ingest };
}

describe("Ingest.onBookRows", () => {
  test("rows go to the ring and one WAL record; a repeat and an overlapping repeat keep only new ids", () => {
    const { symbols, ring, wal, ledger, sequencer, ingest } = setup();
    expect(ingest.onBookRows(event(100, 3), 0, 3)).toBe(BookCommit.OK);
    expect(ingest.onBookRows(event(100, 3), 0, 3)).toBe(BookCommit.DUPLICATE);
    // Same update id, one more level: only position 3 is new.
    expect(ingest.onBookRows(event(100, 4), 0, 4)).toBe(BookCommit.OK);
    expect(ingest.onBookRows(event(250, 2), 0, 2)).toBe(BookCommit.OK); // u jumps: no gap
    expect(ring.available()).toBe(6);
    expect(Array.from({ length: 6 }, (_, k) => ring.rows.id[ring.readIndex(k)])).toEqual([
      bookDeltaId(100, 0),
      bookDeltaId(100, 1),
      bookDeltaId(100, 2),
      bookDeltaId(100, 3),
      bookDeltaId(250, 0),
      bookDeltaId(250, 1),
    ]);
    expect(ingest.duplicates).toBe(6);
    expect(ingest.accepted[Table.book_deltas]).toBe(6);
    expect([sequencer.gaps, ledger.entries().length]).toEqual([0, 0]);
    expect(wal.map((w) => w.tag)).toEqual([BOOK_ROWS_TAG, BOOK_ROWS_TAG, BOOK_ROWS_TAG]);
    const dec = new BookRecordDecoder(allocRowColumns(1));
    expect(wal.map((w) => dec.decode(w.payload, symbols))).toEqual([3, 1, 2]);
  });

  test("all or none: a ring without room, a refusing WAL and shedding store nothing", () => {
    const small = setup({ ring: 4 });
    expect(small.ingest.onBookRows(event(100, 5), 0, 5)).toBe(BookCommit.RING_FULL);
    expect([small.ring.available(), small.wal.length, small.ingest.overflow]).toEqual([0, 0, 5]);
    // Nothing was taken as accepted: the same rows are welcome once there is room.
    expect(small.ingest.onBookRows(event(100, 4), 0, 4)).toBe(BookCommit.OK);

    const refusing = setup({ walRefuses: true });
    expect(refusing.ingest.onBookRows(event(100, 2), 0, 2)).toBe(BookCommit.WAL_REFUSED);
    expect(refusing.ring.available()).toBe(0);
    expect(refusing.sequencer.last(Table.book_deltas, 0)).toBe(-1);

    const shed = setup({ accepts: (t) => t !== Table.book_deltas });
    expect(shed.ingest.onBookRows(event(100, 2), 0, 2)).toBe(BookCommit.SHED);
    expect([shed.ring.available(), shed.wal.length]).toEqual([0, 0]);
  });

  test("rows that are not one book table's, one symbol's, with rising ids are refused as a caller bug", () => {
    const { ring, ingest } = setup();
    const mixed = event(100, 3);
    mixed.symbol_id[2] = 1;
    const falling = event(100, 3);
    falling.id[2] = falling.id[0]!;
    const trades = event(100, 2);
    trades.kind.fill(Table.trades);
    for (const r of [mixed, falling, trades])
      expect(ingest.onBookRows(r, 0, 3 - (r === trades ? 1 : 0))).toBe(BookCommit.BAD_ROWS);
    expect(ingest.onBookRows(event(100, 2), 1, 2)).toBe(BookCommit.BAD_ROWS); // outside the buffer
    expect([ring.available(), ingest.bookRefused]).toEqual([0, 4]);
  });
});
