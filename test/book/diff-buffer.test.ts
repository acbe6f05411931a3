/**
 * DiffBuffer keeps copies of diffs exactly and stays within its bounds by dropping its oldest
 * events; a synchroniser whose snapshot is slow enough to overflow it refetches a snapshot that
 * no longer reaches the oldest kept diff and syncs on the next one.
 */
import { describe, expect, test } from "bun:test";
import { BookSync, DiffBuffer, SNAPSHOT_SYNCED, SNAPSHOT_TOO_OLD } from "../../src/book/index.ts";
import { bookText, diff, snapshot } from "./support.ts";

const P = (x: number) => BigInt(x) * 100_000_000n;
const words = (w: Uint32Array, i: number) => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);

describe("DiffBuffer", () => {
  test("copies ids, times and levels; the decoder's frame can be reused at once", () => {
    const b = new DiffBuffer();
    b.push(
      diff(
        5,
        7,
        [[P(10), P(1)]],
        [
          [P(11), P(2)],
          [P(12), 0n],
        ],
        3,
      ),
    );
    b.push(diff(8, 8, [], [[P(13), P(4)]], 4));
    expect([b.n, b.levels, b.first[1], b.last[0], b.timeUs[0]]).toEqual([2, 4, 8, 7, 3_000]);
    expect([b.askAt[0], b.askN[0], b.bidN[1]]).toEqual([1, 2, 0]);
    expect(words(b.pxw, b.askAt[0]! + 1)).toBe(P(12));
    expect(words(b.qtyw, b.askAt[0]! + 1)).toBe(0n);
    expect(words(b.pxw, b.askAt[1]!)).toBe(P(13));
  });

  test("past its bounds it drops the oldest events and keeps the newest exact", () => {
    const b = new DiffBuffer(8, 64);
    for (let e = 1; e <= 50; e++) b.push(diff(e, e, [[P(e), P(e)]], [[P(1000 + e), P(e)]]));
    expect(b.n).toBeLessThanOrEqual(8);
    expect(b.dropped).toBe(50 - b.n);
    expect(b.last[b.n - 1]).toBe(50);
    // The kept events are consecutive and each still points at its own levels.
    for (let e = 0; e < b.n; e++) {
      const id = b.first[e]!;
      if (e > 0) expect(id).toBe(b.last[e - 1]! + 1);
      expect(words(b.pxw, b.bidAt[e]!)).toBe(P(id));
      expect(words(b.pxw, b.askAt[e]!)).toBe(P(1000 + id));
    }
    // An event larger than the whole pool cannot be buffered: everything is dropped, counted.
    const big = Array.from({ length: 40 }, (_, i) => [P(i + 1), P(1)] as const);
    expect(b.push(diff(51, 51, big, big))).toBe(false);
    expect(b.n).toBe(0);
  });
});

describe("BookSync with a snapshot slower than its buffer", () => {
  test("the overflowed buffer makes the first snapshot too old; the next one syncs", () => {
    const requests: number[] = [];
    const sync = new BookSync(
      0,
      (_s, no) => requests.push(no),
      () => {},
      {
        snapshotLimit: 100,
        bufferMaxEvents: 8,
      },
    );
    for (let e = 1; e <= 30; e++) sync.onDiff(diff(e, e, [[P(e), P(e)]], []), e);
    expect(sync.buffer.dropped).toBeGreaterThan(0);
    const firstKept = sync.buffer.first[0]!;
    expect(firstKept).toBeGreaterThan(2);
    // The exchange's book at id 2 (taken when the first request went out): older than the kept diffs.
    expect(
      sync.onSnapshot(
        snapshot(
          2,
          [
            [P(2), P(2)],
            [P(1), P(1)],
          ],
          [],
        ),
        1,
        31,
      ),
    ).toBe(SNAPSHOT_TOO_OLD);
    expect(requests).toEqual([1, 2]);
    const at = firstKept + 1;
    const bids = Array.from({ length: at }, (_, i) => [P(at - i), P(at - i)] as const);
    expect(sync.onSnapshot(snapshot(at, bids, []), 2, 32)).toBe(SNAPSHOT_SYNCED);
    expect(sync.book.updateId).toBe(30);
    const all = Array.from({ length: 30 }, (_, i) => `${P(30 - i)}:${P(30 - i)}`).join(" ");
    expect(bookText(sync.book)).toBe(`${all} | `);
  });
});
