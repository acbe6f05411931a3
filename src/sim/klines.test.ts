import { describe, expect, test } from "bun:test";
import { KlineBuilder, type KlineRecord, MINUTE_US, quoteScaled } from "./klines.ts";

const T0 = Date.UTC(2025, 0, 1) * 1000;

function closed(b: KlineBuilder, untilUs: number): KlineRecord[] {
  const out: KlineRecord[] = [];
  b.closeUntil(untilUs);
  b.takeClosed(out);
  return out;
}

describe("1m klines from trades", () => {
  test("f/L/n, OHLC, volumes and taker-buy volumes of a minute; an empty minute has n=0, f=L=-1", () => {
    const b = new KlineBuilder(100_00000000);
    b.startAt(T0);
    b.add(10, 101_00000000, 2_00000000, T0 + 1, false); // buyer is taker
    b.add(11, 99_50000000, 1_00000000, T0 + 5, true);
    b.add(12, 100_25000000, 50000000, T0 + 59_999_999, true);
    b.add(13, 98_00000000, 3_00000000, T0 + 2 * MINUTE_US + 7, false);
    const ks = closed(b, T0 + 3 * MINUTE_US);
    expect(ks.length).toBe(3);
    const [a, empty, c] = ks as [KlineRecord, KlineRecord, KlineRecord];
    expect(a).toMatchObject({
      openUs: T0,
      closeUs: T0 + MINUTE_US - 1,
      firstId: 10,
      lastId: 12,
      count: 3,
      closed: true,
    });
    expect([a.open, a.high, a.low, a.close]).toEqual([101_00000000, 101_00000000, 99_50000000, 100_25000000]);
    expect(a.volume).toBe(3_50000000n);
    expect(a.quoteVolume).toBe(202_00000000n + 99_50000000n + 50_12500000n);
    expect([a.takerBuyVolume, a.takerBuyQuoteVolume]).toEqual([2_00000000n, 202_00000000n]);
    expect(empty).toMatchObject({ firstId: -1, lastId: -1, count: 0, volume: 0n, quoteVolume: 0n });
    expect([empty.open, empty.high, empty.low, empty.close]).toEqual(Array(4).fill(100_25000000));
    expect(c).toMatchObject({ firstId: 13, lastId: 13, count: 1, open: 98_00000000 });
  });

  test("a minute is not closed before its end; the open minute is visible with x=false", () => {
    const b = new KlineBuilder(1);
    b.startAt(T0);
    b.add(1, 5, 5, T0 + 10, false);
    expect(closed(b, T0 + MINUTE_US - 1)).toEqual([]);
    expect(b.current()).toMatchObject({ count: 1, closed: false });
    expect(closed(b, T0 + MINUTE_US).length).toBe(1);
  });

  test("the count fault falsifies the next minute with trades only, and records it", () => {
    const b = new KlineBuilder(1);
    b.startAt(T0);
    b.falsifyNextCount(2);
    b.add(1, 5, 5, T0 + MINUTE_US + 1, false);
    const ks = closed(b, T0 + 2 * MINUTE_US);
    expect(ks.map((k) => k.count)).toEqual([0, 3]);
    expect(b.falsified).toEqual([{ openUs: T0 + MINUTE_US, trueCount: 1, sentCount: 3 }]);
  });

  test("quoteScaled is floor(price × qty / 1e8), exact when the product passes 2^53", () => {
    const cases: Array<[number, number]> = [
      [6_500_001_000_000, 1_234_567],
      [99_999_999_999_999, 9_999_999_999],
      [1, 1],
      [12_345, 99_999_999],
    ];
    for (const [p, q] of cases)
      expect(BigInt(quoteScaled(p, q))).toBe((BigInt(p) * BigInt(q)) / 100_000_000n);
  });
});
