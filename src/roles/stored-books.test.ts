/**
 * The query node's book answers over a stand-in for the engine's row reads (the real engine over
 * real files: test-long/cluster/book-roles.long.ts): where the stored chain breaks, where no stored row
 * vouches for an instant yet, and the live book refused.
 */
import { expect, test } from "bun:test";
import type { Config } from "../config/index.ts";
import { HttpError } from "../http/index.ts";
import { bookCheckpointId, bookDeltaId, bookSnapshotId } from "../model/book-rows.ts";
import { TABLE_COLUMNS, type TableName } from "../model/tables.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { RowQuery, RowResult } from "../query/rows.ts";
import { openStoredBooks } from "./stored-books.ts";

type Row = Record<string, number | bigint | string | boolean>;
const TIME: Partial<Record<TableName, string>> = {
  book_deltas: "event_time_us",
  book_snapshots: "snapshot_time_us",
  book_checkpoints: "checkpoint_time_us",
};
const ID: Partial<Record<TableName, string>> = {
  book_deltas: "delta_id",
  book_snapshots: "snapshot_id",
  book_checkpoints: "checkpoint_id",
};

/** Row reads as the engine answers them: time in [fromUs, toUs), by id, paged by cursor. */
function engineOver(tables: Partial<Record<TableName, Row[]>>): QueryEngine {
  const rows = async (q: RowQuery): Promise<RowResult> => {
    const t = TIME[q.table]!;
    const id = ID[q.table]!;
    let all = (tables[q.table] ?? []).filter(
      (r) =>
        (q.fromUs === undefined || Number(r[t]) >= q.fromUs) &&
        (q.toUs === undefined || Number(r[t]) < q.toUs),
    );
    all.sort((a, b) => Number(a[id]) - Number(b[id]));
    if (q.order === "desc") all.reverse();
    if (q.cursorId !== undefined)
      all = all.filter((r) =>
        q.order === "asc" ? Number(r[id]) > q.cursorId! : Number(r[id]) < q.cursorId!,
      );
    const page = all.slice(0, q.limit);
    const columns = TABLE_COLUMNS[q.table];
    return {
      frame: { columns, data: columns.map((c) => page.map((r) => r[c.name] ?? null)), length: page.length },
      nextCursorId: all.length > q.limit ? Number(page.at(-1)![id]) : null,
      hotRows: 0,
      coldRows: page.length,
      incomplete: false,
    };
  };
  // What the catalog says of the stored book_deltas: the newest event's time.
  const deltas = tables.book_deltas ?? [];
  const coverage = () =>
    deltas.length === 0
      ? []
      : [
          {
            table: "book_deltas",
            symbol: "BTCUSDT",
            lastUs: Math.max(...deltas.map((r) => Number(r.event_time_us))),
          },
        ];
  return { rows, coverage } as unknown as QueryEngine;
}

const S = 1_000_000;
const px = (p: number) => BigInt(p) * 100_000_000n;
const cp = (u: number, levels: [boolean, number, number][]): Row[] =>
  levels.map(([ask, p, q], i) => ({
    checkpoint_id: bookCheckpointId(2, i),
    checkpoint_time_us: 2 * S,
    update_id: u,
    side: ask ? "ask" : "bid",
    price: px(p),
    quantity: px(q),
    level_state: "exact",
    known_time_us: 2 * S,
  }));
const ev = (U: number, u: number, us: number, levels: [boolean, number, number][], snap = false): Row[] =>
  levels.map(([ask, p, q], i) => ({
    delta_id: bookDeltaId(u, i),
    first_update_id: U,
    last_update_id: u,
    side: ask ? "ask" : "bid",
    price: px(p),
    quantity: px(q),
    is_snapshot: snap,
    event_time_us: us,
  }));
const top = (u: number, us: number): Row => ({
  snapshot_id: bookSnapshotId(us / 1000, false, 0),
  snapshot_time_us: us,
  update_id: u,
});

const config = {
  streams: ["trade", "depth"],
  symbols: ["BTCUSDT"],
  bookCheckpointMs: 2000,
  bookSnapshotMs: 500,
} as unknown as Config;

const deltas = [
  ...ev(101, 101, 2.1 * S, [[false, 99, 2]]),
  ...ev(102, 103, 2.5 * S, [[true, 101, 0]]),
  // 104..107 never stored; a snapshot of 120 re-bases the book at 3.0 s
  ...ev(108, 110, 2.7 * S, [[false, 98, 1]]),
  ...ev(
    120,
    120,
    3.0 * S,
    [
      [false, 97, 4],
      [true, 102, 5],
    ],
    true,
  ),
  ...ev(119, 121, 3.0 * S, [[false, 96, 1]]),
  ...ev(122, 122, 3.5 * S, [[false, 96, 2]]),
];
const checkpoint = cp(100, [
  [false, 99, 1],
  [true, 101, 1],
]);

async function at(books: ReturnType<typeof openStoredBooks>, atUs: number) {
  return (await books!.answer("BTCUSDT", atUs, 10))!;
}

test("a continuous stretch is synced; a hole is not_synced from just after the last event to the re-basing snapshot", async () => {
  const books = openStoredBooks(config, engineOver({ book_checkpoints: checkpoint, book_deltas: deltas }));
  const a = await at(books, 2.6 * S);
  expect(a.state).toBe("not_synced"); // the next event (2.7 s) starts past a hole from 2.5 s on
  expect(a.resync).toEqual({
    gap_id: -1,
    from_update_id: 104,
    to_update_id: 120,
    detail: "updates missing from the stored rows (no recorder stored them)",
  });
  const b = await at(books, 2.3 * S);
  expect({ state: b.state, update_id: b.update_id, bids: b.bids.map((l) => l.quantity) }).toEqual({
    state: "synced",
    update_id: 101,
    bids: ["2.00000000"],
  });
  const c = await at(books, 3.2 * S); // the snapshot's book, continued by 121
  expect({ state: c.state, update_id: c.update_id, bids: c.bids.map((l) => l.price) }).toEqual({
    state: "synced",
    update_id: 121,
    bids: ["97.00000000", "96.00000000"],
  });
});

test("after the newest stored event an instant is not_stored_yet (as in a single process) until a top snapshot of its update id vouches for it", async () => {
  const rows = { book_checkpoints: checkpoint, book_deltas: deltas.slice(0, 2) };
  const bare = openStoredBooks(config, engineOver(rows));
  const a = await at(bare, 2.7 * S);
  expect({ state: a.state, through: a.stored_through_us, levels: a.bids.length + a.asks.length }).toEqual({
    state: "not_stored_yet",
    through: 2.5 * S, // the newest stored event
    levels: 0,
  });
  const vouched = openStoredBooks(config, engineOver({ ...rows, book_snapshots: [top(103, 3.0 * S)] }));
  expect((await at(vouched, 2.7 * S)).state).toBe("synced");
  // A top snapshot of another update id vouches for nothing (updates were missed in between).
  const other = openStoredBooks(config, engineOver({ ...rows, book_snapshots: [top(107, 3.0 * S)] }));
  expect((await at(other, 2.7 * S)).state).toBe("not_stored_yet");
  // Rows stored later, but none soon after the instant (reads past it are bounded) and no
  // snapshot vouching: not stored yet would be false, so it is not_synced.
  const later = openStoredBooks(
    config,
    engineOver({ ...rows, book_deltas: [...rows.book_deltas, ...ev(130, 130, 6 * S, [[false, 95, 1]])] }),
  );
  expect((await at(later, 2.7 * S)).state).toBe("not_synced");
  // The series likewise: the instants after the newest stored event, no levels.
  const s = (await bare!.series("BTCUSDT", 2.0 * S, 3.0 * S, 200, 5))!;
  expect(s.snapshots.map((x) => `${x.time_us / S}:${x.state}:${x.bids.length}`)).toEqual([
    "2:synced:1",
    "2.2:synced:1",
    "2.4:synced:1",
    "2.6:not_stored_yet:0",
    "2.8:not_stored_yet:0",
    "3:not_stored_yet:0",
  ]);
});

test("the series marks the hole's instants not_synced", async () => {
  const books = openStoredBooks(config, engineOver({ book_checkpoints: checkpoint, book_deltas: deltas }));
  const s = (await books!.series("BTCUSDT", 2.0 * S, 3.2 * S, 200, 5))!;
  expect(s.snapshots.map((x) => `${x.time_us / S}:${x.state}`)).toEqual([
    "2:synced",
    "2.2:synced",
    "2.4:synced",
    "2.6:not_synced",
    "2.8:not_synced",
    "3:synced",
    "3.2:synced",
  ]);
});

test("the live book is refused 501 naming the roles that keep it; no depth: no books here", async () => {
  const books = openStoredBooks(config, engineOver({}));
  const e = await books!.answer("BTCUSDT", undefined, 10).catch((x) => x);
  expect(e).toBeInstanceOf(HttpError);
  expect({ status: e.status, code: e.code }).toEqual({ status: 501, code: "not_on_this_role" });
  expect(e.message).toContain("K2_ROLE=recorder");
  expect(await books!.answer("ETHUSDT", 1, 10)).toBeUndefined();
  expect(openStoredBooks({ ...config, streams: ["trade"] } as Config, engineOver({}))).toBeUndefined();
});
