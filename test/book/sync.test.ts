/**
 * BookSync against Binance's rules, driven by hand-made sequences (one per rule and fault) and by
 * generated ones from a reference exchange book with every fault mixed in: skipped update ids,
 * duplicates, snapshots older than the buffered diffs, snapshots that arrive late (after a newer
 * request), failed snapshot requests and holes inside the buffer. Whenever the book says it is
 * synced it must equal the reference book at the book's update id, and every loss of continuity
 * must come back as one ResyncRecord covering the ids that were skipped.
 */
import { describe, expect, test } from "bun:test";
import {
  BookLevels,
  BookSync,
  DIFF_APPLIED,
  DIFF_BUFFERED,
  DIFF_DUPLICATE,
  DIFF_GAP,
  LEVEL_EXACT,
  type ResyncRecord,
  SNAPSHOT_GAP,
  SNAPSHOT_IGNORED,
  SNAPSHOT_INVALID,
  SNAPSHOT_SYNCED,
  SNAPSHOT_TOO_OLD,
  SYNC_SYNCED,
  SYNC_WAITING,
} from "../../src/book/index.ts";
import type { DepthFrame } from "../../src/decode/binance/index.ts";
import { Rng } from "../decode/gen.ts";
import { bookText, diff, type Level, levelsText, snapshot, TruthBook } from "./support.ts";

const P = (x: number) => BigInt(x) * 100_000_000n;

function harness(limit = 1000) {
  const requests: number[] = [];
  const records: ResyncRecord[] = [];
  const sync = new BookSync(
    0,
    (_sym, no) => requests.push(no),
    (r) => records.push(r),
    { snapshotLimit: limit },
  );
  return { sync, requests, records };
}

/** Event `id` of a simple stream: bid `100 + id` with quantity id. */
const ev = (U: number, u = U): DepthFrame => diff(U, u, [[P(100 + u), P(u)]], [], u);

describe("BookSync: Binance's rules, one at a time", () => {
  test("buffers until the snapshot, drops u ≤ lastUpdateId, applies the rest from the one holding lastUpdateId + 1", () => {
    const { sync, requests } = harness();
    expect(sync.onDiff(ev(100, 104), 1)).toBe(DIFF_BUFFERED);
    expect(requests).toEqual([1]); // the first diff asks for a snapshot
    expect(sync.onDiff(ev(105, 109), 2)).toBe(DIFF_BUFFERED);
    expect(sync.onDiff(ev(110, 112), 3)).toBe(DIFF_BUFFERED);
    expect(sync.synced).toBe(false);
    // lastUpdateId 107 lies within [105, 109]: 100–104 dropped, 105–109 and 110–112 applied.
    expect(sync.onSnapshot(snapshot(107, [[P(50), P(1)]], [[P(900), P(1)]]), 1, 4)).toBe(SNAPSHOT_SYNCED);
    expect(sync.state).toBe(SYNC_SYNCED);
    expect(sync.book.updateId).toBe(112);
    expect(bookText(sync.book)).toBe(
      `${P(212)}:${P(112)} ${P(209)}:${P(109)} ${P(50)}:${P(1)} | ${P(900)}:${P(1)}`,
    );
    expect(requests).toEqual([1]);
    expect(sync.onDiff(ev(113), 5)).toBe(DIFF_APPLIED);
    expect(sync.book.updateId).toBe(113);
  });

  test("storage is told the snapshot, then each buffered diff it applied, in order, with receive times", () => {
    const told: string[] = [];
    const sync = new BookSync(
      0,
      () => {},
      () => {},
      {
        snapshotLimit: 1000,
        applied: {
          snapshot: (_s, f) => told.push(`snapshot ${f.lastId}`),
          buffered: (_s, b, e) => told.push(`diff ${b.first[e]}-${b.last[e]} recv ${b.recvUs[e]}`),
        },
      },
    );
    const withRecv = (f: DepthFrame, recv: number) => {
      f.recvTimeUs = recv;
      return f;
    };
    sync.onDiff(withRecv(ev(100, 104), 11), 1);
    sync.onDiff(withRecv(ev(105, 109), 12), 2);
    sync.onDiff(withRecv(ev(110, 112), 13), 3);
    sync.onSnapshot(snapshot(107, [[P(50), P(1)]], [[P(900), P(1)]]), 1, 4);
    expect(told).toEqual(["snapshot 107", "diff 105-109 recv 12", "diff 110-112 recv 13"]);
    // A live diff is the caller's to store: the hook is not called for it.
    expect(sync.onDiff(ev(113), 5)).toBe(DIFF_APPLIED);
    expect(told.length).toBe(3);
  });

  test("a snapshot older than the first buffered U is refetched; the newer one syncs", () => {
    const { sync, requests } = harness();
    sync.onDiff(ev(100, 104), 1);
    expect(sync.onSnapshot(snapshot(99, [], []), 1, 2)).toBe(SNAPSHOT_TOO_OLD);
    expect(requests).toEqual([1, 2]);
    expect(sync.synced).toBe(false);
    expect(sync.onSnapshot(snapshot(101, [], []), 2, 3)).toBe(SNAPSHOT_SYNCED);
    expect(sync.book.updateId).toBe(104);
    expect(sync.snapshotsTooOld).toBe(1);
  });

  test("a late snapshot (the answer to an earlier request) is ignored", () => {
    const { sync, requests } = harness();
    sync.onDiff(ev(100), 1);
    sync.onSnapshot(snapshot(50, [], []), 1, 2); // too old → request 2
    expect(requests).toEqual([1, 2]);
    expect(sync.onSnapshot(snapshot(100, [], []), 1, 3)).toBe(SNAPSHOT_IGNORED); // request 1 answered twice
    expect(sync.synced).toBe(false);
    expect(sync.onSnapshot(snapshot(100, [], []), 2, 4)).toBe(SNAPSHOT_SYNCED);
    expect(sync.onSnapshot(snapshot(100, [], []), 2, 5)).toBe(SNAPSHOT_IGNORED); // already synced
  });

  test("after sync, u ≤ book id is a duplicate and changes nothing", () => {
    const { sync, records } = harness();
    sync.onDiff(ev(10), 1);
    sync.onSnapshot(snapshot(10, [], []), 1, 2);
    sync.onDiff(ev(11), 3);
    const before = bookText(sync.book);
    expect(sync.onDiff(diff(11, 11, [[P(1), P(1)]], []), 4)).toBe(DIFF_DUPLICATE);
    expect(sync.onDiff(diff(5, 9, [[P(1), P(1)]], []), 5)).toBe(DIFF_DUPLICATE);
    expect(bookText(sync.book)).toBe(before);
    expect([sync.duplicates, sync.synced, records.length]).toEqual([2, true, 0]);
  });

  test("a skipped update id is a gap: not synced, a new snapshot, and a resync record with the lost range", () => {
    const { sync, requests, records } = harness();
    sync.onDiff(ev(10), 1_000);
    sync.onSnapshot(snapshot(10, [[P(1), P(1)]], []), 1, 2_000);
    expect(sync.onDiff(ev(11), 3_000)).toBe(DIFF_APPLIED);
    expect(sync.onDiff(ev(15, 16), 4_000)).toBe(DIFF_GAP); // 12–14 never arrived
    expect([sync.state, requests]).toEqual([SYNC_WAITING, [1, 2]]);
    expect(sync.onDiff(ev(17), 5_000)).toBe(DIFF_BUFFERED);
    expect(sync.onSnapshot(snapshot(16, [[P(2), P(2)]], []), 2, 6_000)).toBe(SNAPSHOT_SYNCED);
    expect(sync.book.updateId).toBe(17);
    expect(records).toEqual([
      {
        symbolId: 0,
        cause: "update_id_gap",
        fromUpdateId: 12,
        toUpdateId: 16,
        missingFromId: 12,
        missingToId: 14,
        startUs: 4_000,
        endUs: 6_000,
        snapshotRequests: 1,
      },
    ]);
  });

  test("a hole inside the buffered diffs discards the snapshot and asks for another", () => {
    const { sync, requests } = harness();
    sync.onDiff(ev(100), 1);
    sync.onDiff(ev(101), 2);
    sync.onDiff(ev(104), 3); // 102–103 lost while buffering
    sync.onDiff(ev(105), 4);
    expect(sync.onSnapshot(snapshot(100, [], []), 1, 5)).toBe(SNAPSHOT_GAP);
    expect([sync.synced, requests]).toEqual([false, [1, 2]]);
    // The kept buffer starts at 104: a snapshot at 104 syncs and 105 is applied.
    expect(sync.onSnapshot(snapshot(104, [], []), 2, 6)).toBe(SNAPSHOT_SYNCED);
    expect(sync.book.updateId).toBe(105);
  });

  test("a failed request is asked again; an untrustworthy snapshot is refetched", () => {
    const { sync, requests } = harness();
    sync.onDiff(ev(100), 1);
    sync.onSnapshotFailed(1);
    sync.onSnapshotFailed(1); // a second failure report for the same request: nothing more
    expect(requests).toEqual([1, 2]);
    expect(
      sync.onSnapshot(
        snapshot(
          100,
          [
            [P(1), P(1)],
            [P(2), P(1)],
          ],
          [],
        ),
        2,
        2,
      ),
    ).toBe(SNAPSHOT_INVALID);
    expect(requests).toEqual([1, 2, 3]);
    expect(
      sync.onSnapshot(
        snapshot(
          100,
          [
            [P(2), P(1)],
            [P(1), P(1)],
          ],
          [],
        ),
        3,
        3,
      ),
    ).toBe(SNAPSHOT_SYNCED);
  });

  test("a snapshot newer than every buffered diff syncs; the next diff must continue from it", () => {
    const { sync } = harness();
    sync.onDiff(ev(100), 1);
    sync.onDiff(ev(101), 2);
    expect(sync.onSnapshot(snapshot(103, [], []), 1, 3)).toBe(SNAPSHOT_SYNCED);
    expect(sync.book.updateId).toBe(103);
    expect(sync.onDiff(ev(102, 103), 4)).toBe(DIFF_DUPLICATE);
    expect(sync.onDiff(ev(104), 5)).toBe(DIFF_APPLIED);
  });

  test("reset gives up a synced book and reports it when synced again", () => {
    const { sync, records } = harness();
    sync.onDiff(ev(1), 1);
    sync.onSnapshot(snapshot(1, [], []), 1, 2);
    sync.reset(3);
    expect(sync.synced).toBe(false);
    sync.onDiff(ev(2), 4);
    sync.onSnapshot(snapshot(2, [], []), 2, 5);
    expect(
      records.map((r) => [r.cause, r.fromUpdateId, r.toUpdateId, r.missingFromId, r.startUs, r.endUs]),
    ).toEqual([["reset", 2, 2, -1, 3, 5]]);
  });
});

describe("BookSync on generated sequences with every fault", () => {
  test("whenever synced, the book equals the exchange's book at its update id; every skip is ledgered", () => {
    const bl = new BookLevels();
    const al = new BookLevels();
    let unverifiedOrBeyond = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const rng = new Rng(seed * 7919);
      const requests: number[] = [];
      const records: ResyncRecord[] = [];
      // Odd seeds ask for 5-level snapshots: deeper levels are then 'beyond' or unverified.
      const limit = seed % 2 === 1 ? 5 : 5000;
      const sync = new BookSync(
        0,
        (_s, no) => requests.push(no),
        (r) => records.push(r),
        {
          snapshotLimit: limit,
          bufferMaxEvents: 64,
        },
      );
      const truth = new TruthBook();
      const history = new Map<number, TruthBook>(); // update id → the exchange book after it
      const past: { id: number; book: TruthBook }[] = [];
      let id = 0;
      const skipped: number[] = [];
      const skippedWhileSynced: number[] = [];
      let synced = 0;
      // Snapshot requests are answered a few events later, sometimes late, stale or failing.
      const pending: { no: number; dueAt: number; id: number; text: TruthBook }[] = [];
      for (let step = 0; step < 500; step++) {
        // The exchange: one event of 1–3 update ids changing a few levels.
        const U = id + 1;
        const u = id + 1 + rng.int(3);
        id = u;
        const side = (): Level[] =>
          Array.from({ length: rng.int(4) }, () => [
            P(1000 + rng.int(60)),
            rng.chance(0.3) ? 0n : P(1 + rng.int(50)),
          ]);
        const bids = side().map(([p, q]) => [p - P(100), q] as const);
        const asks = side();
        truth.apply(bids, asks);
        history.set(u, truth.clone());
        past.push({ id: u, book: truth.clone() });
        const frame = diff(U, u, bids, asks, step);
        // Faults on the stream: skip (lost), or deliver twice.
        const r = rng.int(100);
        if (r < 3) {
          skipped.push(U);
          if (sync.synced) skippedWhileSynced.push(U);
        } else {
          sync.onDiff(frame, step);
          if (r < 8) sync.onDiff(frame, step); // duplicate
        }
        // New requests: answered 1–6 steps later with the book as it is then (or an old one).
        while (requests.length > 0) {
          const no = requests.shift()!;
          pending.push({ no, dueAt: step + 1 + rng.int(6), id: u, text: truth.clone() });
        }
        for (let k = pending.length - 1; k >= 0; k--) {
          const p = pending[k]!;
          if (p.dueAt > step) continue;
          pending.splice(k, 1);
          const f = rng.int(100);
          if (f < 10) {
            sync.onSnapshotFailed(p.no);
            continue;
          }
          // Sometimes the snapshot was taken well before it was asked for: older than the buffered diffs.
          const old = f < 25 ? past[Math.max(0, past.length - 1 - 5 - rng.int(20))]! : null;
          const snapId = old ? old.id : p.id;
          const t = old ? old.book : p.text;
          sync.onSnapshot(snapshot(snapId, t.top(true), t.top(false)), p.no, step);
          if (rng.chance(0.1)) sync.onSnapshot(snapshot(snapId, t.top(true), t.top(false)), p.no, step); // answered twice
        }
        if (sync.synced) {
          synced++;
          const at = history.get(sync.book.updateId)!;
          if (limit === 5000) expect(bookText(sync.book)).toBe(at.text());
          else {
            // The exact levels are a best-first prefix of each side and equal the exchange's top levels.
            sync.book.top(Number.POSITIVE_INFINITY, bl, al);
            for (const [l, bid] of [
              [bl, true],
              [al, false],
            ] as const) {
              let k = 0;
              while (k < l.n && l.state[k] === LEVEL_EXACT) k++;
              for (let j = k; j < l.n; j++) expect(l.state[j]).not.toBe(LEVEL_EXACT);
              const got = Array.from({ length: k }, (_, j) => [l.price(j), l.quantity(j)] as const);
              expect(levelsText(got)).toBe(levelsText(at.top(bid, k)));
              if (l.n > k) unverifiedOrBeyond++;
            }
          }
        }
      }
      expect(synced).toBeGreaterThan(100);
      // Every skipped event that hit a synced book is inside one record's missing range.
      for (const rec of records) {
        expect(rec.missingFromId).toBeLessThanOrEqual(rec.missingToId);
        expect(rec.fromUpdateId).toBe(rec.missingFromId);
        expect(rec.toUpdateId).toBeGreaterThanOrEqual(rec.missingToId);
        expect(rec.endUs).toBeGreaterThanOrEqual(rec.startUs);
        expect(skipped).toContain(rec.missingFromId);
      }
      expect(sync.duplicates).toBeGreaterThan(0);
      // Every skip that hit a synced book is inside a record's missing range (the last may still be open).
      // A skip in the last steps, with nothing delivered after it, is not detected yet: left out.
      const open = sync.synced ? 0 : 1;
      const detectable = skippedWhileSynced.filter((U) => !sync.synced || U <= sync.book.updateId);
      const opened = detectable.filter((U) =>
        records.some((r) => r.missingFromId <= U && U <= r.missingToId),
      );
      expect(opened.length).toBeGreaterThanOrEqual(detectable.length - open);
      if (skippedWhileSynced.length > 1) expect(records.length).toBeGreaterThan(0);
    }
    expect(unverifiedOrBeyond).toBeGreaterThan(0);
  }, 30_000);
});
