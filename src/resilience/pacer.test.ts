import { describe, expect, test } from "bun:test";
import { ConnectionPacer, messageLimiter, SlidingWindowLimiter, TokenBucket } from "./pacer.ts";

const FIVE_MIN = 300_000;

/** A fake clock the tests move by hand. */
function fakeClock(start = 0) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("SlidingWindowLimiter: 300 connection attempts per 5 minutes", () => {
  test("exactly 300 fit; the 301st waits until the first one leaves the window", () => {
    const w = new SlidingWindowLimiter({ limit: 300, windowMs: FIVE_MIN });
    // Attempt i at t = 1000 + i ms: all 300 inside one window.
    for (let i = 0; i < 300; i++) expect(w.tryAcquire(1_000 + i)).toBe(true);
    expect(w.count(1_299)).toBe(300);
    expect(w.tryAcquire(1_300)).toBe(false);
    expect(w.refused).toBe(1);
    // The first attempt (t=1000) leaves the window at 1000 + 5 min exactly.
    expect(w.msUntilNext(1_300)).toBe(1_000 + FIVE_MIN - 1_300);
    expect(w.tryAcquire(1_000 + FIVE_MIN - 1)).toBe(false);
    expect(w.tryAcquire(1_000 + FIVE_MIN)).toBe(true);
    // Only one slot freed: the next one waits for the second attempt (t=1001).
    expect(w.msUntilNext(1_000 + FIVE_MIN)).toBe(1);
    expect(w.tryAcquire(1_001 + FIVE_MIN)).toBe(true);
    expect(w.count(1_001 + FIVE_MIN)).toBe(300);
  });

  test("over a long run no 5-minute window ever holds more than 300", () => {
    const w = new SlidingWindowLimiter({ limit: 300, windowMs: FIVE_MIN });
    const accepted: number[] = [];
    // Try every 100 ms for 20 minutes: 12,000 tries, far above the limit.
    for (let t = 0; t < 4 * FIVE_MIN; t += 100) if (w.tryAcquire(t)) accepted.push(t);
    for (let i = 300; i < accepted.length; i++) {
      expect(accepted[i]! - accepted[i - 300]!).toBeGreaterThanOrEqual(FIVE_MIN);
    }
    expect(accepted.length).toBe(4 * 300);
  });

  test("record() counts attempts made over the limit instead of hiding them", () => {
    const w = new SlidingWindowLimiter({ limit: 2, windowMs: 1_000 });
    w.record(0);
    w.record(10);
    expect(w.overLimit).toBe(0);
    w.record(20);
    expect(w.overLimit).toBe(1);
    expect(w.count(20)).toBe(2); // memory stays at `limit` entries
  });

  test("validates its options", () => {
    expect(() => new SlidingWindowLimiter({ limit: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ limit: 1.5, windowMs: 1 })).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ limit: 1, windowMs: 0 })).toThrow(RangeError);
  });
});

describe("messageLimiter: 5 messages per second per connection", () => {
  test("5 go at once, the 6th waits for the first to be 1 s old", () => {
    const clock = fakeClock(10_000);
    const m = messageLimiter(clock.now);
    for (let i = 0; i < 5; i++) {
      expect(m.tryAcquire()).toBe(true);
      clock.advance(100);
    }
    expect(m.tryAcquire()).toBe(false);
    expect(m.msUntilNext()).toBe(500);
    clock.advance(500);
    expect(m.tryAcquire()).toBe(true);
    expect(m.tryAcquire()).toBe(false);
  });

  test("sustained: never more than 5 in any 1 s window", () => {
    const m = messageLimiter();
    const sent: number[] = [];
    for (let t = 0; t < 10_000; t += 7) if (m.tryAcquire(t)) sent.push(t);
    for (let i = 5; i < sent.length; i++) expect(sent[i]! - sent[i - 5]!).toBeGreaterThanOrEqual(1_000);
    expect(sent.length).toBeGreaterThanOrEqual(49);
    expect(sent.length).toBeLessThanOrEqual(50);
  });
});

describe("ConnectionPacer", () => {
  test("enforces ≥ 1 s between new connections", () => {
    const p = new ConnectionPacer({ now: () => 0 });
    expect(p.msUntilNext(5_000)).toBe(0);
    expect(p.tryAcquire(5_000)).toBe(true);
    expect(p.msUntilNext(5_400)).toBe(600);
    expect(p.tryAcquire(5_400)).toBe(false);
    expect(p.tryAcquire(6_000)).toBe(true);
  });

  test("the window limit applies on top of the spacing, and stats report it", () => {
    const p = new ConnectionPacer({ maxPerWindow: 3, windowMs: 10_000, minIntervalMs: 1_000 });
    expect(p.tryAcquire(0)).toBe(true);
    expect(p.tryAcquire(1_000)).toBe(true);
    expect(p.tryAcquire(2_000)).toBe(true);
    expect(p.msUntilNext(3_000)).toBe(7_000);
    expect(p.tryAcquire(9_999)).toBe(false);
    expect(p.tryAcquire(10_000)).toBe(true);
    expect(p.stats(10_000)).toEqual({ inWindow: 3, refused: 1, overLimit: 0, tooSoon: 0 });
  });

  test("paced by msUntilNext, 1,000 reconnects take ≥ 1 s apart and ≤ 300 per 5 min", () => {
    const p = new ConnectionPacer();
    let t = 0;
    const starts: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      t += p.msUntilNext(t);
      p.record(t);
      starts.push(t);
    }
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1_000);
    for (let i = 300; i < starts.length; i++)
      expect(starts[i]! - starts[i - 300]!).toBeGreaterThanOrEqual(FIVE_MIN);
    expect(p.stats(t)).toMatchObject({ overLimit: 0, tooSoon: 0 });
  });

  test("record() without waiting is counted as tooSoon", () => {
    const p = new ConnectionPacer();
    p.record(0);
    p.record(10);
    expect(p.stats(10).tooSoon).toBe(1);
  });
});

describe("TokenBucket", () => {
  test("burst up to capacity, then refills at the rate", () => {
    const clock = fakeClock(0);
    const b = new TokenBucket({ capacity: 5, refillPerSecond: 5, now: clock.now });
    for (let i = 0; i < 5; i++) expect(b.tryTake(1)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
    expect(b.refused).toBe(1);
    expect(b.msUntil(1)).toBe(200);
    clock.advance(199);
    expect(b.tryTake(1)).toBe(false);
    clock.advance(1);
    expect(b.tryTake(1)).toBe(true);
  });

  test("waiting exactly msUntil(n) is always enough, for awkward rates", () => {
    const b = new TokenBucket({ capacity: 6_000, refillPerSecond: 100, startFull: false, now: () => 0 });
    let t = 0;
    for (const n of [1, 7, 33, 2, 250, 3]) {
      t += b.msUntil(n, t);
      expect(b.tryTake(n, t)).toBe(true);
    }
    expect(b.msUntil(6_001, t)).toBe(Number.POSITIVE_INFINITY);
  });

  test("never exceeds capacity; a clock stepping back adds nothing", () => {
    const b = new TokenBucket({ capacity: 10, refillPerSecond: 1, now: () => 0 });
    expect(b.available(1_000_000)).toBe(10);
    expect(b.tryTake(10, 1_000_000)).toBe(true);
    expect(b.available(500_000)).toBe(0);
    expect(b.available(1_001_000)).toBeCloseTo(1, 9);
  });

  test("validates its options", () => {
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: 0 })).toThrow(RangeError);
  });
});
