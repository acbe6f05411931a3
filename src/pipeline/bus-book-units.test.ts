import { expect, test } from "bun:test";
import { bookCheckpointId, bookDeltaId } from "../model/book-rows.ts";
import { keepBookParts } from "./bus-book-units.ts";

/** Rows in arrival order: [id, message]. */
function keep(table: Parameters<typeof keepBookParts>[0], rows: [number, number][], stored: number[] = []) {
  const ids = rows.map((r) => r[0]);
  const kept = keepBookParts(
    table,
    ids,
    rows.map((r) => r[1]),
    rows.length,
    new Set(stored),
  );
  return kept.map((i) => `${ids[i]}@${rows[i]![1]}`);
}
const d = bookDeltaId;

test("the other recorder's copy of a diff event is dropped whole", () => {
  const a: [number, number][] = [0, 1, 2].map((p) => [d(50, p), 0]);
  const b: [number, number][] = [0, 1, 2].map((p) => [d(50, p), 1]);
  expect(keep("book_deltas", [...a, ...b])).toEqual(["0", "1", "2"].map((p) => `${d(50, +p)}@0`));
});

test("a snapshot whose lastUpdateId is an event's u: whichever came first is kept whole, never a mix", () => {
  const ev: [number, number][] = [0, 1].map((p) => [d(120, p), 0]); // recorder A's event u=120, 2 levels
  const snap: [number, number][] = [0, 1, 2, 3].map((p) => [d(120, p), 1]); // B's snapshot L=120
  expect(keep("book_deltas", [...ev, ...snap])).toEqual([`${d(120, 0)}@0`, `${d(120, 1)}@0`]);
  expect(keep("book_deltas", [...snap, ...ev])).toEqual([0, 1, 2, 3].map((p) => `${d(120, p)}@1`));
  // Against the files: the event stored earlier, the snapshot arriving now is dropped.
  expect(keep("book_deltas", snap, [d(120, 0), d(120, 1)])).toEqual([]);
});

test("a recorder's own unit cut between two messages is kept, in this gathering or after its first part's file", () => {
  const cp = (p: number, m: number): [number, number] => [bookCheckpointId(7, p), m];
  const part1 = [0, 1, 2].map((p) => cp(p, 0));
  const part2 = [3, 4].map((p) => cp(p, 1));
  expect(keep("book_checkpoints", [...part1, ...part2]).length).toBe(5);
  expect(
    keep(
      "book_checkpoints",
      part2,
      [0, 1, 2].map((p) => bookCheckpointId(7, p)),
    ),
  ).toEqual([3, 4].map((p) => `${bookCheckpointId(7, p)}@1`));
  // The other recorder's checkpoint of the same instant (one more level) adds nothing.
  const other = [0, 1, 2, 3, 4, 5].map((p) => cp(p, 2));
  expect(keep("book_checkpoints", [...part1, ...part2, ...other]).every((k) => !k.endsWith("@2"))).toBe(true);
});

test("units of different events are independent; kept rows come sorted by id", () => {
  const rows: [number, number][] = [
    [d(60, 0), 1],
    [d(59, 0), 0],
    [d(59, 1), 0],
    [d(59, 0), 1], // B's copy of 59
  ];
  expect(keep("book_deltas", rows)).toEqual([`${d(59, 0)}@0`, `${d(59, 1)}@0`, `${d(60, 0)}@1`]);
});
