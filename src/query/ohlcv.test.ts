import { describe, expect, test } from "bun:test";
import { candles, divRoundHalfUp } from "./ohlcv.ts";

describe("exact rounding", () => {
  test("half-up integer division", () => {
    expect([
      divRoundHalfUp(5n, 2n),
      divRoundHalfUp(7n, 3n),
      divRoundHalfUp(8n, 3n),
      divRoundHalfUp(0n, 9n),
    ]).toEqual([3n, 2n, 3n, 0n]);
    // vwap of 0.1 @ 3.00000001 and 0.2 @ 3.00000002 = 3.0000000166… → 3.00000002
    const q16 = 300000001n * 10000000n + 300000002n * 20000000n;
    expect(divRoundHalfUp(q16, 30000000n)).toBe(300000002n);
  });

  test("candles: fill=previous without a previous close does not invent a first candle", () => {
    const p = {
      bucketUs: 120_000_000,
      open: 5n,
      high: 5n,
      low: 5n,
      close: 5n,
      volume8: 1n,
      quote16: 5n,
      count: 1,
      firstId: 1,
      lastId: 1,
    };
    const r = candles({ symbol: "X", interval: "1m", fromUs: 0, limit: 10, fill: "previous" }, [p]);
    expect(r.frame.length).toBe(1);
    const r2 = candles(
      { symbol: "X", interval: "1m", fromUs: 0, limit: 10, fill: "previous", prevClose: 4n },
      [p],
    );
    expect(r2.frame.data[5]).toEqual([4n, 4n, 5n]);
  });
});
