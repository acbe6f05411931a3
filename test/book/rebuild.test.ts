/** BookRebuild against a reference book on Maps (test/book/support.ts TruthBook). */
import { expect, test } from "bun:test";
import { BookRebuild, type BookRow } from "../../src/book/rebuild.ts";
import { type Level, TruthBook } from "./support.ts";

const P = (x: number) => BigInt(x) * 100_000_000n;
const rows = (u: number, bids: Level[], asks: Level[], isSnapshot = false, t = u): BookRow[] => [
  ...bids.map(([price, quantity]) => ({ ask: false, price, quantity, updateId: u, timeUs: t, isSnapshot })),
  ...asks.map(([price, quantity]) => ({ ask: true, price, quantity, updateId: u, timeUs: t, isSnapshot })),
];
const text = (b: BookRebuild) =>
  `${b
    .top(false, 99)
    .map((l) => `${l.price}:${l.quantity}`)
    .join(" ")} | ${b
    .top(true, 99)
    .map((l) => `${l.price}:${l.quantity}`)
    .join(" ")}`;

test("a checkpoint, then deltas after it (those it holds skipped), equal the reference", () => {
  const truth = new TruthBook();
  const start: [Level[], Level[]] = [
    [
      [P(100), P(1)],
      [P(99), P(2)],
    ],
    [
      [P(101), P(1)],
      [P(103), P(3)],
    ],
  ];
  truth.apply(...start);
  const b = new BookRebuild();
  b.checkpoint(rows(10, ...start), 1, 10);
  // Event 10 again (already in the checkpoint): skipped even though it would change the book.
  for (const r of rows(10, [[P(100), 0n]], [])) b.delta(r);
  const events: [Level[], Level[]][] = [
    [[[P(100), P(5)]], [[P(101), 0n]]],
    [[[P(98), P(7)]], [[P(102), P(2)]]],
    [[[P(99), 0n]], []],
  ];
  events.forEach(([bs, as], i) => {
    truth.apply(bs, as);
    for (const r of rows(11 + i, bs, as)) b.delta(r);
  });
  expect(text(b)).toBe(
    `${truth
      .top(true)
      .map(([p, q]) => `${p}:${q}`)
      .join(" ")} | ${truth
      .top(false)
      .map(([p, q]) => `${p}:${q}`)
      .join(" ")}`,
  );
  expect(b.updateId).toBe(13);
  expect(b.deltasApplied).toBe(5);
  // A level deeper than every exact level of the checkpoint is known from updates only.
  expect(b.top(false, 9).find((l) => l.price === P(98))?.state).toBe("beyond");
  expect(b.top(true, 9).find((l) => l.price === P(102))?.state).toBe("exact");
});

test("a REST snapshot among the deltas (a resync) starts the book again from its levels", () => {
  const b = new BookRebuild();
  b.checkpoint(rows(10, [[P(100), P(1)]], [[P(101), P(1)]]), 1, 10);
  for (const r of rows(11, [[P(90), P(1)]], [])) b.delta(r);
  for (const r of rows(50, [[P(95), P(2)]], [[P(96), P(2)]], true)) b.delta(r);
  for (const r of rows(51, [[P(94), P(1)]], [])) b.delta(r);
  expect(text(b)).toBe(`${P(95)}:${P(2)} ${P(94)}:${P(1)} | ${P(96)}:${P(2)}`);
  expect(b.baseKind).toBe("snapshot");
  expect(b.updateId).toBe(51);
});

test("deltas before any base are ignored: no book is made up", () => {
  const b = new BookRebuild();
  for (const r of rows(5, [[P(1), P(1)]], [])) b.delta(r);
  expect(b.baseKind).toBe("none");
  expect(b.bids.size).toBe(0);
});
