import { describe, expect, test } from "bun:test";
import { Backoff, ceilingFor, HealthyResetTracker, mulberry32 } from "./backoff.ts";

const SECOND = 1_000;
const EXPECTED_CEILINGS_S = [1, 2, 4, 8, 16, 32, 64, 128, 128, 128];

describe("Backoff", () => {
  test("ceilings double from 1 s to the 128 s cap and stay there", () => {
    const b = new Backoff({ random: mulberry32(1) });
    const ceilings: number[] = [];
    for (let i = 0; i < EXPECTED_CEILINGS_S.length; i++) {
      expect(b.attempt).toBe(i);
      ceilings.push(b.ceilingMs / SECOND);
      b.nextDelayMs();
    }
    expect(ceilings).toEqual(EXPECTED_CEILINGS_S);
  });

  test("every jittered delay is an integer within [0, ceiling], over many seeds", () => {
    let sawLow = false;
    let sawHigh = false;
    for (let seed = 0; seed < 500; seed++) {
      const b = new Backoff({ random: mulberry32(seed) });
      for (let i = 0; i < 12; i++) {
        const ceiling = b.ceilingMs;
        const d = b.nextDelayMs();
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
        expect(b.lastDelayMs).toBe(d);
        if (d < ceiling * 0.1) sawLow = true;
        if (d > ceiling * 0.9) sawHigh = true;
      }
    }
    // Full jitter spreads over the whole range, not just near the ceiling.
    expect(sawLow && sawHigh).toBe(true);
  });

  test("the same seed gives the same schedule; different seeds differ", () => {
    const run = (seed: number) => {
      const b = new Backoff({ random: mulberry32(seed) });
      return Array.from({ length: 8 }, () => b.nextDelayMs());
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  test("mean delay at the cap is about half the cap (uniform jitter)", () => {
    const b = new Backoff({ random: mulberry32(7) });
    for (let i = 0; i < 8; i++) b.nextDelayMs();
    let sum = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) sum += b.nextDelayMs();
    expect(sum / n / 128_000).toBeCloseTo(0.5, 1);
  });

  test("never gives up: attempt 10,000 still yields a capped delay", () => {
    const b = new Backoff({ random: mulberry32(3) });
    for (let i = 0; i < 10_000; i++) b.nextDelayMs();
    expect(b.attempt).toBe(10_000);
    expect(b.ceilingMs).toBe(128_000);
    const d = b.nextDelayMs();
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(128_000);
  });

  test("reset goes back to the first ceiling", () => {
    const b = new Backoff({ random: mulberry32(5) });
    for (let i = 0; i < 6; i++) b.nextDelayMs();
    expect(b.ceilingMs).toBe(64_000);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.ceilingMs).toBe(1_000);
    expect(b.nextDelayMs()).toBeLessThanOrEqual(1_000);
  });

  test("base and cap are configurable; a broken random source cannot escape the bounds", () => {
    expect(ceilingFor(250, 1_000, 0)).toBe(250);
    expect(ceilingFor(250, 1_000, 2)).toBe(1_000);
    expect(ceilingFor(250, 1_000, 5000)).toBe(1_000);
    const hi = new Backoff({ baseMs: 250, capMs: 1_000, random: () => 0.999999 });
    expect([hi.nextDelayMs(), hi.nextDelayMs(), hi.nextDelayMs()]).toEqual([250, 500, 1_000]);
    const bad = new Backoff({ random: () => Number.NaN });
    expect(bad.nextDelayMs()).toBe(0);
    const one = new Backoff({ random: () => 1 });
    expect(one.nextDelayMs()).toBeLessThanOrEqual(1_000);
  });

  test("rejects a non-positive base and a cap below the base", () => {
    expect(() => new Backoff({ baseMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ baseMs: 1_000, capMs: 500 })).toThrow(/capMs/);
  });
});

describe("HealthyResetTracker", () => {
  test("resets only after the connection stayed up healthyAfterMs, once per connection", () => {
    const b = new Backoff({ random: mulberry32(9) });
    for (let i = 0; i < 5; i++) b.nextDelayMs();
    const t = new HealthyResetTracker(b, 60_000);
    t.onConnected(1_000);
    expect(t.connectedSinceMs).toBe(1_000);
    expect(t.check(60_999)).toBe(false);
    expect(b.attempt).toBe(5);
    expect(t.check(61_000)).toBe(true);
    expect(b.attempt).toBe(0);
    b.nextDelayMs();
    expect(t.check(120_000)).toBe(false); // already reset for this connection
    expect(b.attempt).toBe(1);
    expect(t.resets).toBe(1);
  });

  test("a connection that drops early keeps the backoff growing", () => {
    const b = new Backoff({ random: mulberry32(9) });
    const t = new HealthyResetTracker(b, 60_000);
    for (let i = 0; i < 4; i++) {
      t.onConnected(i * 10_000);
      expect(t.check(i * 10_000 + 5_000)).toBe(false);
      t.onDisconnected();
      b.nextDelayMs();
    }
    expect(t.connectedSinceMs).toBeNull();
    expect(t.check(1_000_000)).toBe(false);
    expect(b.attempt).toBe(4);
    expect(b.ceilingMs).toBe(16_000);
  });
});
