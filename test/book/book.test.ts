/**
 * OrderBook / BookSide: levels equal a Map-based reference after random diffs; snapshots replace
 * their price range and keep deeper levels as unverified (with the time they were last known)
 * until a diff touches them; a complete snapshot drops everything deeper; untrustworthy
 * snapshots are refused without touching the book; a full side drops its worst level.
 */
import { describe, expect, test } from "bun:test";
import {
  BEST_ASK,
  BEST_BID,
  BookLevels,
  LEVEL_BEYOND,
  LEVEL_EXACT,
  LEVEL_UNVERIFIED,
  OrderBook,
} from "../../src/book/index.ts";
import { Rng } from "../decode/gen.ts";
import { bookText, diff, type Level, snapshot, TruthBook } from "./support.ts";

const P = (x: number) => BigInt(Math.round(x * 100)) * 1_000_000n; // price with 2 decimals → scaled
const Q = (x: number) => BigInt(x) * 100_000_000n;

describe("OrderBook levels", () => {
  test("after 600 random diffs (updates, inserts, removals, removals of absent levels) it equals the reference", () => {
    const rng = new Rng(99);
    const book = new OrderBook(0);
    const truth = new TruthBook();
    for (let e = 1; e <= 600; e++) {
      const side = () => {
        const ls: Level[] = [];
        for (let k = rng.int(12); k > 0; k--) {
          // A grid of 400 prices around 30,000 so updates and removals hit existing levels; a few far away.
          const cents = rng.chance(0.05) ? rng.int(10_000_000) : 3_000_000 + rng.int(400) * 50;
          ls.push([BigInt(cents) * 1_000_000n, rng.chance(0.35) ? 0n : BigInt(1 + rng.int(1e9))]);
        }
        return ls;
      };
      const bids = side();
      const asks = side();
      book.applyDiff(diff(e, e, bids, asks, e));
      truth.apply(bids, asks);
      expect(book.updateId).toBe(e);
    }
    expect(book.bids.n).toBeGreaterThan(50);
    expect(bookText(book)).toBe(truth.text());
  });

  test("best bid/ask and top N are the best levels of each side, best first", () => {
    const book = new OrderBook(0);
    book.applyDiff(
      diff(
        1,
        1,
        [
          [P(99), Q(1)],
          [P(101), Q(2)],
          [P(100), Q(3)],
        ],
        [
          [P(103), Q(4)],
          [P(102), Q(5)],
        ],
      ),
    );
    const b = new BookLevels();
    const a = new BookLevels();
    book.top(2, b, a);
    expect([b.n, b.price(0), b.price(1), b.quantity(0)]).toEqual([2, P(101), P(100), Q(2)]);
    expect([a.n, a.price(0), a.price(1)]).toEqual([2, P(102), P(103)]);
    const best = new Uint32Array(8);
    expect(book.best(best)).toBe(BEST_BID | BEST_ASK);
    const w = (k: number) => (BigInt(best[2 * k + 1]!) << 32n) | BigInt(best[2 * k]!);
    expect([w(0), w(1), w(2), w(3)]).toEqual([P(101), Q(2), P(102), Q(5)]);
    expect(new OrderBook(1).best(best)).toBe(0);
    const s = new Uint32Array(4);
    expect(book.isCrossed(s)).toBe(false);
    book.applyDiff(diff(2, 2, [[P(102.5), Q(1)]], []));
    expect(book.isCrossed(s)).toBe(true);
  });
});

describe("OrderBook snapshots and unverified levels", () => {
  test("a snapshot's range is exact; deeper diff levels are 'beyond'; a shallower resnapshot leaves the rest unverified until touched", () => {
    const book = new OrderBook(0);
    // Snapshot 1 (limit 3, full): bids 100, 99, 98; asks 101, 102, 103.
    const s1 = snapshot(
      10,
      [
        [P(100), Q(1)],
        [P(99), Q(1)],
        [P(98), Q(1)],
      ],
      [
        [P(101), Q(1)],
        [P(102), Q(1)],
        [P(103), Q(1)],
      ],
    );
    expect(book.applySnapshot(s1, 3, 1_000)).toBe(true);
    expect(book.updateId).toBe(10);
    // A diff adds bid 90 (deeper than the snapshot reached) and removes 99.
    book.applyDiff(
      diff(
        11,
        11,
        [
          [P(90), Q(5)],
          [P(99), 0n],
        ],
        [],
        2,
      ),
    ); // E = 2 ms = 2,000 µs
    const b = new BookLevels();
    const a = new BookLevels();
    book.top(10, b, a);
    expect([...b.state.subarray(0, b.n)]).toEqual([LEVEL_EXACT, LEVEL_EXACT, LEVEL_BEYOND]);
    expect(b.price(2)).toBe(P(90));
    expect(b.knownUs[2]).toBe(2_000);

    // Snapshot 2 (limit 2, full again): bids 100, 98 only → 90 is kept but unverified, known at 2,000 µs.
    const s2 = snapshot(
      20,
      [
        [P(100), Q(2)],
        [P(98), Q(2)],
      ],
      [
        [P(101), Q(2)],
        [P(102), Q(2)],
      ],
    );
    expect(book.applySnapshot(s2, 2, 5_000)).toBe(true);
    book.top(10, b, a);
    expect(b.n).toBe(3);
    expect([...b.state.subarray(0, 3)]).toEqual([LEVEL_EXACT, LEVEL_EXACT, LEVEL_UNVERIFIED]);
    expect([b.price(2), b.knownUs[2], b.knownUs[0]]).toEqual([P(90), 2_000, 5_000]);
    // Ask 103 was deeper than snapshot 2 reached on the ask side: unverified too.
    expect([a.n, a.price(2), a.state[2]]).toEqual([3, P(103), LEVEL_UNVERIFIED]);

    // A diff touching bid 90 makes it known again ('beyond', new time); one removing ask 103 removes the ghost.
    book.applyDiff(diff(21, 21, [[P(90), Q(7)]], [[P(103), 0n]], 9));
    book.top(10, b, a);
    expect([b.state[2], b.quantity(2), b.knownUs[2]]).toEqual([LEVEL_BEYOND, Q(7), 9_000]);
    expect(a.n).toBe(2);

    // A snapshot that returns fewer levels than asked is the whole side: nothing deeper is kept.
    const s3 = snapshot(30, [[P(100), Q(3)]], [[P(101), Q(3)]]);
    expect(book.applySnapshot(s3, 100, 9_500)).toBe(true);
    book.top(10, b, a);
    expect([b.n, a.n, b.state[0]]).toEqual([1, 1, LEVEL_EXACT]);
    // And levels a diff adds afterwards anywhere are inside the (complete) range.
    book.applyDiff(diff(31, 31, [[P(50), Q(1)]], []));
    book.top(10, b, a);
    expect([b.n, b.state[1]]).toEqual([2, LEVEL_EXACT]);
  });

  test("a snapshot out of order or with a zero quantity is refused and leaves the book as it was", () => {
    const book = new OrderBook(0);
    expect(book.applySnapshot(snapshot(5, [[P(100), Q(1)]], [[P(101), Q(1)]]), 10, 1)).toBe(true);
    const before = bookText(book);
    expect(
      book.applySnapshot(
        snapshot(
          6,
          [
            [P(99), Q(1)],
            [P(100), Q(1)],
          ],
          [],
        ),
        10,
        2,
      ),
    ).toBe(false); // bids ascending
    expect(
      book.applySnapshot(
        snapshot(
          6,
          [],
          [
            [P(102), Q(1)],
            [P(102), Q(1)],
          ],
        ),
        10,
        2,
      ),
    ).toBe(false); // repeated ask
    expect(book.applySnapshot(snapshot(6, [[P(100), 0n]], []), 10, 2)).toBe(false);
    expect(bookText(book)).toBe(before);
    expect(book.updateId).toBe(5);
  });

  test("a full side drops its worst level, and the snapshot range shrinks with it", () => {
    const book = new OrderBook(0, 3);
    expect(
      book.applySnapshot(
        snapshot(
          1,
          [
            [P(100), Q(1)],
            [P(99), Q(1)],
            [P(98), Q(1)],
          ],
          [],
        ),
        3,
        1,
      ),
    ).toBe(true);
    book.applyDiff(diff(2, 2, [[P(100.5), Q(1)]], []));
    expect(book.bids.evicted).toBe(1);
    expect(bookText(book, 5)).toBe(`${P(100.5)}:${Q(1)} ${P(100)}:${Q(1)} ${P(99)}:${Q(1)} | `);
    // Worse than every level of a full side: not kept.
    book.applyDiff(diff(3, 3, [[P(10), Q(1)]], []));
    expect(book.bids.n).toBe(3);
    expect(book.bids.evicted).toBe(2);
    // 98 was dropped from inside the snapshot's range: 99 is now its deepest exact level.
    const b = new BookLevels();
    book.top(5, b, new BookLevels());
    expect([...b.state.subarray(0, 3)]).toEqual([LEVEL_EXACT, LEVEL_EXACT, LEVEL_EXACT]);
    // A complete side (fewer levels than asked) that is full: a level it cannot keep ends the range above it.
    const full = new OrderBook(0, 2);
    expect(full.applySnapshot(snapshot(1, [[P(100), Q(1)]], []), 10, 1)).toBe(true);
    full.applyDiff(diff(2, 2, [[P(99), Q(1)]], []));
    full.applyDiff(diff(3, 3, [[P(98), Q(1)]], [])); // not kept: the side holds 2
    full.applyDiff(diff(4, 4, [[P(100), 0n]], [])); // 100 goes: 99 is the only level left
    full.applyDiff(diff(5, 5, [[P(97), Q(1)]], [])); // below 98, which the book dropped
    full.top(5, b, new BookLevels());
    expect([b.n, b.price(1), b.state[0], b.state[1]]).toEqual([2, P(97), LEVEL_EXACT, LEVEL_BEYOND]);
  });
});
