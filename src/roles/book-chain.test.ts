import { expect, test } from "bun:test";
import { BookChain } from "./book-chain.ts";

/** Rows of one diff event (two levels) or one REST snapshot (three levels). */
function event(c: BookChain, U: number, u: number, us: number) {
  c.row(U, u, us, false);
  c.row(U, u, us, false);
}
function snapshot(c: BookChain, L: number, us: number) {
  for (let i = 0; i < 3; i++) c.row(L, L, us, true);
}

test("a continuous chain from a checkpoint has no window", () => {
  const c = new BookChain();
  c.base(100, 1_000);
  event(c, 95, 100, 1_000); // held by the checkpoint already
  event(c, 101, 104, 1_100);
  event(c, 105, 105, 1_200);
  expect(c.windows).toEqual([]);
  expect(c.windowAt(1_150)).toBeUndefined();
  expect(c.updateId).toBe(105);
  expect(c.events).toBe(2);
});

test("a hole re-based by a snapshot is a window from just after the last event to the snapshot's time", () => {
  const c = new BookChain();
  c.base(100, 1_000);
  event(c, 101, 104, 1_100);
  // 105..119 never stored; the recorder resynced with a snapshot of 120, published at 1_600
  snapshot(c, 120, 1_600);
  event(c, 118, 123, 1_600);
  event(c, 124, 124, 1_700);
  expect(c.windows).toEqual([{ fromUs: 1_101, toUs: 1_600, fromId: 105, toId: 120 }]);
  expect(c.windowAt(1_100)).toBeUndefined();
  expect(c.windowAt(1_101)?.toId).toBe(120);
  expect(c.windowAt(1_599)?.fromId).toBe(105);
  expect(c.windowAt(1_600)).toBeUndefined();
});

test("another recorder's snapshot inside a continuous chain breaks nothing", () => {
  const c = new BookChain();
  c.base(100, 1_000);
  event(c, 101, 104, 1_100);
  snapshot(c, 106, 1_200); // taken while the chain went on
  event(c, 105, 108, 1_200);
  event(c, 109, 110, 1_300);
  expect(c.windows).toEqual([]);
  expect(c.windowAt(1_250)).toBeUndefined();
});

test("a hole no snapshot re-based stays open", () => {
  const c = new BookChain();
  c.base(100, 1_000);
  event(c, 101, 104, 1_100);
  event(c, 110, 112, 1_300);
  expect(c.windows).toEqual([]);
  expect(c.windowAt(1_050)).toBeUndefined();
  expect(c.windowAt(5_000)).toEqual({
    fromUs: 1_101,
    toUs: Number.POSITIVE_INFINITY,
    fromId: 105,
    toId: -1,
  });
  // A snapshot that re-bases it later closes it there.
  snapshot(c, 130, 2_000);
  event(c, 131, 131, 2_100);
  expect(c.windowAt(5_000)).toBeUndefined();
  expect(c.windows).toEqual([{ fromUs: 1_101, toUs: 2_000, fromId: 105, toId: 130 }]);
});
