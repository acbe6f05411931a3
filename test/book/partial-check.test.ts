/** The partial-depth check: agreement, a disagreement named, and the levels a book cannot vouch for. */
import { expect, test } from "bun:test";
import { BookLevels, OrderBook } from "../../src/book/index.ts";
import { checkAgainstPartial } from "../../src/book/partial-check.ts";
import { diff, type Level, snapshot } from "./support.ts";

const P = (x: number) => BigInt(x) * 100_000_000n;
const bids: Level[] = [
  [P(100), P(1)],
  [P(99), P(2)],
  [P(98), P(3)],
];
const asks: Level[] = [
  [P(101), P(1)],
  [P(102), P(2)],
];

function book(limit: number) {
  const b = new OrderBook(0);
  expect(b.applySnapshot(snapshot(10, bids, asks), limit, 1)).toBe(true);
  return b;
}
const check = (b: OrderBook, bs: Level[], as: Level[]) =>
  checkAgainstPartial(b, snapshot(10, bs, as), new BookLevels(), new BookLevels());

test("the same top levels agree; a different quantity or a missing level is named", () => {
  const b = book(1000);
  expect(check(b, bids.slice(0, 2), asks)).toBeNull();
  const wrongQty: Level[] = [
    [P(100), P(1)],
    [P(99), P(5)],
  ];
  expect(check(b, wrongQty, asks)).toContain("bids level 1");
  const deeper: Level[] = [...asks, [P(103), P(1)]];
  expect(check(b, bids, deeper)).toContain("asks: the stream has 3 levels, the book 2");
});

test("levels the book does not know exactly are not held against it", () => {
  // Asked for 2 levels a side: the third bid (98) arrives by diff and lies beyond the snapshot.
  const b = new OrderBook(0);
  expect(b.applySnapshot(snapshot(10, bids.slice(0, 2), asks), 2, 1)).toBe(true);
  b.applyDiff(diff(11, 11, [[P(97), P(4)]], [], 2));
  // The stream's third level (98) disagrees with the book's (97, beyond): not a fault.
  expect(check(b, bids, asks)).toBeNull();
  // But the exact levels above it still must agree.
  expect(check(b, [[P(100), P(9)], ...bids.slice(1)], asks)).toContain("bids level 0");
});
