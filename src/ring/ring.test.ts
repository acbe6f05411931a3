import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FLAG_BUYER_MAKER, type RowColumns, Table } from "../model/index.ts";
import { RING_MAX_CAPACITY, Ring, validateRingCapacity } from "./ring.ts";

/** Writes every trade column of `slot` from one sequence number, so a reader can verify them all. */
function writeTrade(r: RowColumns, slot: number, seq: number): void {
  r.kind[slot] = Table.trades;
  r.symbol_id[slot] = seq & 0xffff;
  r.id[slot] = seq;
  r.first_id[slot] = 0;
  r.last_id[slot] = 0;
  r.trade_time_us[slot] = 1_700_000_000_000_000 + seq;
  r.event_time_us[slot] = 1_700_000_000_000_001 + seq;
  r.recv_time_us[slot] = 1_700_000_000_000_002 + seq;
  r.dec0w[2 * slot] = (seq * 7) >>> 0;
  r.dec0w[2 * slot + 1] = seq & 0xff;
  r.dec1w[2 * slot] = (seq * 13) >>> 0;
  r.dec1w[2 * slot + 1] = 0;
  r.flags[slot] = seq & FLAG_BUYER_MAKER;
}

/** True if `slot` holds exactly what writeTrade(seq) wrote. */
function holdsTrade(r: RowColumns, slot: number, seq: number): boolean {
  return (
    r.kind[slot] === Table.trades &&
    r.symbol_id[slot] === (seq & 0xffff) &&
    r.id[slot] === seq &&
    r.trade_time_us[slot] === 1_700_000_000_000_000 + seq &&
    r.event_time_us[slot] === 1_700_000_000_000_001 + seq &&
    r.recv_time_us[slot] === 1_700_000_000_000_002 + seq &&
    r.dec0w[2 * slot] === (seq * 7) >>> 0 &&
    r.dec0w[2 * slot + 1] === (seq & 0xff) &&
    r.dec1w[2 * slot] === (seq * 13) >>> 0 &&
    r.flags[slot] === (seq & FLAG_BUYER_MAKER)
  );
}

function push(ring: Ring, seq: number): number {
  const slot = ring.claim();
  if (slot >= 0) {
    writeTrade(ring.rows, slot, seq);
    ring.commit();
  }
  return slot;
}

/** mulberry32: a seeded PRNG so a failing schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("Ring capacity", () => {
  test("rejects capacities that are not powers of two in range", () => {
    for (const bad of [
      0,
      -1,
      3,
      1000,
      1.5,
      65535,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      RING_MAX_CAPACITY * 2,
    ]) {
      expect(() => new Ring(bad)).toThrow(RangeError);
    }
    expect(() => validateRingCapacity(1000)).toThrow(/power of two/);
    for (const ok of [1, 2, 1024, 65536]) expect(new Ring(ok).capacity).toBe(ok);
  });

  test("rejects a start position that is not an int32", () => {
    expect(() => new Ring(4, 2 ** 31)).toThrow(RangeError);
    expect(() => new Ring(4, 0.5)).toThrow(RangeError);
  });
});

describe("Ring", () => {
  test("empty: nothing readable, release and drain refuse to invent rows", () => {
    const ring = new Ring(8);
    expect(ring.available()).toBe(0);
    expect(ring.readIndex(0)).toBe(-1);
    expect(ring.readableRun()).toBe(0);
    expect(ring.drain(10, () => expect.unreachable())).toBe(0);
    expect(() => ring.release(1)).toThrow(/only 0 rows/);
    expect(ring.fillRatio()).toBe(0);
    expect(ring.free()).toBe(8);
  });

  test("full: claim refuses and counts, never overwrites unconsumed rows", () => {
    const ring = new Ring(4);
    for (let s = 0; s < 4; s++) expect(push(ring, s)).toBe(s);
    expect(ring.claim()).toBe(-1);
    expect(ring.claim()).toBe(-1);
    expect(ring.totalRefused).toBe(2);
    expect(() => ring.commit()).toThrow(/without a successful claim/);
    expect(ring.size()).toBe(4);
    expect(ring.free()).toBe(0);
    for (let k = 0; k < 4; k++) expect(holdsTrade(ring.rows, ring.readIndex(k), k)).toBe(true);
    ring.release(1);
    expect(ring.claim()).toBe(0); // the freed slot, and only it
    expect(ring.totalCommitted).toBe(4);
  });

  test("wrap-around: slots cycle through the columns in order", () => {
    const ring = new Ring(4);
    const slots: number[] = [];
    let next = 0;
    for (let seq = 0; seq < 10; seq++) {
      slots.push(push(ring, seq));
      if (seq % 2 === 1) {
        const got: number[] = [];
        ring.drain(2, (r, slot) => got.push(r.id[slot]!));
        expect(got).toEqual([next, next + 1]);
        next += 2;
      }
    }
    expect(slots).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    expect(ring.totalReleased).toBe(10);
  });

  test("readableRun stops at the physical end of the columns", () => {
    const ring = new Ring(4);
    for (let s = 0; s < 3; s++) push(ring, s);
    ring.release(3);
    for (let s = 3; s < 6; s++) push(ring, s); // slots 3, 0, 1
    expect(ring.available()).toBe(3);
    expect(ring.readableRun()).toBe(1);
    ring.release(1);
    expect(ring.readableRun()).toBe(2);
    expect(holdsTrade(ring.rows, ring.readIndex(1), 5)).toBe(true);
  });

  test("abandoned claim: the next claim returns the same slot and nothing is published", () => {
    const ring = new Ring(4);
    push(ring, 0);
    const slot = ring.claim();
    expect(slot).toBe(1);
    writeTrade(ring.rows, slot, 999); // a decoder half-wrote the row, then hit a bad frame
    expect(ring.available()).toBe(1);
    expect(ring.claim()).toBe(slot);
    writeTrade(ring.rows, slot, 1);
    ring.commit();
    expect(() => ring.commit()).toThrow(); // one commit per claim
    const ids: number[] = [];
    ring.drain(10, (r, s) => ids.push(r.id[s]!));
    expect(ids).toEqual([0, 1]);
    expect(ring.totalCommitted).toBe(2);
    expect(ring.totalRefused).toBe(0);
  });

  test("high-water mark keeps the peak until reset, then restarts from the current size", () => {
    const ring = new Ring(8);
    for (let s = 0; s < 5; s++) push(ring, s);
    ring.release(4);
    expect(ring.size()).toBe(1);
    expect(ring.highWater).toBe(5);
    expect(ring.resetHighWater()).toBe(5);
    expect(ring.highWater).toBe(1);
    push(ring, 5);
    expect(ring.highWater).toBe(2);
  });

  test("fill ratio and stats snapshot", () => {
    const ring = new Ring(8);
    for (let s = 0; s < 6; s++) push(ring, s);
    ring.release(2);
    expect(ring.fillRatio()).toBe(0.5);
    expect(ring.stats()).toEqual({
      capacity: 8,
      size: 4,
      fill_ratio: 0.5,
      high_water: 6,
      committed_total: 6,
      released_total: 2,
      refused_total: 0,
    });
  });

  test("release rejects more rows than readable, negative and fractional counts", () => {
    const ring = new Ring(4);
    push(ring, 0);
    expect(() => ring.release(2)).toThrow(RangeError);
    expect(() => ring.release(-1)).toThrow(RangeError);
    expect(() => ring.release(0.5)).toThrow(RangeError);
    expect(ring.readIndex(-1)).toBe(-1);
    ring.release(1);
    expect(ring.available()).toBe(0);
  });

  test("drain: a throwing consumer releases the rows it finished, the failing row stays", () => {
    const ring = new Ring(8);
    for (let s = 0; s < 5; s++) push(ring, s);
    expect(() =>
      ring.drain(5, (r, slot) => {
        if (r.id[slot] === 2) throw new Error("sink failed");
      }),
    ).toThrow("sink failed");
    expect(ring.available()).toBe(3);
    expect(holdsTrade(ring.rows, ring.readIndex(0), 2)).toBe(true);
  });

  test("decimal columns written through the word views read back as BigInt", () => {
    const ring = new Ring(2);
    const slot = ring.claim();
    ring.rows.dec0[slot] = 6_543_210_000_000n; // 65432.1 scaled by 1e8
    ring.rows.dec1w[2 * slot] = 0x89abcdef;
    ring.rows.dec1w[2 * slot + 1] = 0x1;
    ring.commit();
    expect(ring.rows.dec0[ring.readIndex(0)]).toBe(6_543_210_000_000n);
    expect(ring.rows.dec1[ring.readIndex(0)]).toBe(0x1_89ab_cdefn);
  });

  test("positions crossing the int32 sign flip and the 2^32 wrap", () => {
    for (const start of [2 ** 31 - 3, -3]) {
      const ring = new Ring(4, start);
      let consumed = 0;
      for (let seq = 0; seq < 20; seq++) {
        expect(push(ring, seq)).toBeGreaterThanOrEqual(0);
        if (seq % 3 === 2) {
          expect(ring.size()).toBe(3);
          ring.drain(3, (r, slot) => {
            expect(holdsTrade(r, slot, consumed)).toBe(true);
            consumed++;
          });
        }
      }
      expect(ring.size()).toBe(20 - consumed);
      for (let s = ring.size(); s < 4; s++) push(ring, 100 + s);
      expect(ring.claim()).toBe(-1);
    }
  });
});

describe("Ring SPSC interleaving", () => {
  test("5M seeded operations: every committed row consumed once, in order, intact", () => {
    const OPS = 5_000_000;
    const rand = prng(0x6b32);
    const ring = new Ring(1024);
    let nextSeq = 0; // sequence of the next row the producer will commit
    let expectSeq = 0; // sequence the consumer expects next
    let refused = 0;
    let bad = -1; // first sequence that came back wrong
    let ops = 0;
    const verify = (r: RowColumns, slot: number) => {
      if (bad < 0 && !holdsTrade(r, slot, expectSeq)) bad = expectSeq;
      expectSeq++;
    };
    while (ops < OPS) {
      // Bursts of either side, sized so the ring is sometimes full and sometimes empty.
      if (rand() < 0.5) {
        const burst = 1 + Math.floor(rand() * 600);
        for (let i = 0; i < burst; i++, ops++) {
          const slot = ring.claim();
          if (slot < 0) {
            refused++;
            continue;
          }
          if (rand() < 0.05) {
            writeTrade(ring.rows, slot, -1); // abandoned claim: garbage never published
            continue;
          }
          writeTrade(ring.rows, slot, nextSeq++);
          ring.commit();
        }
      } else {
        const want = Math.floor(rand() * 700);
        if (rand() < 0.5) {
          ops += ring.drain(want, verify) + 1;
        } else {
          const n = Math.min(want, ring.available());
          for (let k = 0; k < n; k++) verify(ring.rows, ring.readIndex(k));
          ring.release(n);
          ops += n + 1;
        }
      }
    }
    ring.drain(ring.capacity, verify);
    expect(bad).toBe(-1);
    expect(expectSeq).toBe(nextSeq);
    expect(ring.totalCommitted).toBe(nextSeq);
    expect(ring.totalReleased).toBe(nextSeq);
    expect(ring.totalRefused).toBe(refused);
    expect(refused).toBeGreaterThan(0); // the schedule did reach full
    expect(ring.highWater).toBe(ring.capacity);
  });

  test("property: the ring behaves as a bounded FIFO model for any schedule", () => {
    type Op = { kind: "push" | "abandon" | "pop"; n: number };
    const op = fc.record({ kind: fc.constantFrom<Op["kind"]>("push", "abandon", "pop"), n: fc.nat(20) });
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4, 16),
        fc.constantFrom(0, 2 ** 31 - 5, -7),
        fc.array(op, { maxLength: 200 }),
        (capacity, start, ops) => {
          const ring = new Ring(capacity, start);
          const model: number[] = [];
          let seq = 0;
          let refused = 0;
          for (const o of ops) {
            if (o.kind === "pop") {
              const n = Math.min(o.n, model.length);
              for (let k = 0; k < n; k++) {
                if (!holdsTrade(ring.rows, ring.readIndex(k), model[k]!)) return false;
              }
              ring.release(n);
              model.splice(0, n);
              continue;
            }
            for (let i = 0; i < o.n; i++) {
              const slot = ring.claim();
              if (model.length === capacity) {
                if (slot !== -1) return false;
                refused++;
              } else if (o.kind === "push") {
                writeTrade(ring.rows, slot, seq);
                ring.commit();
                model.push(seq++);
              }
            }
            if (ring.size() !== model.length || ring.totalRefused !== refused) return false;
          }
          return ring.available() === model.length && ring.fillRatio() === model.length / capacity;
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
