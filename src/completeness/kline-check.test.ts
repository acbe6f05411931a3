import { expect, test } from "bun:test";
import { checkKline, type KlineFacts, missingRanges } from "./kline-check.ts";

const E8 = 100_000_000n;
const trades = {
  ids: [10, 11, 12],
  prices: [100n * E8, 102n * E8, 99n * E8 + 50_000_000n],
  quantities: [1n * E8, 2n * E8, 12_345_678n],
};
// Σ p·q = 100 + 204 + 99.5 × 0.12345678 = 316.28394961 exactly
const kline: KlineFacts = {
  firstId: 10,
  lastId: 12,
  count: 3,
  open: 100n * E8,
  high: 102n * E8,
  low: 99n * E8 + 50_000_000n,
  close: 99n * E8 + 50_000_000n,
  volume: 3n * E8 + 12_345_678n,
  quoteVolume: 316n * E8 + 28_394_961n,
};

test("a kline reproduced exactly by its stored trades is ok", () => {
  expect(checkKline(kline, trades)).toEqual({ outcome: "ok", stored: 3, missing: [], detail: "" });
});

test("quote volume may differ by one unit of the 8th decimal per trade, not more", () => {
  expect(checkKline({ ...kline, quoteVolume: kline.quoteVolume - 3n }, trades).outcome).toBe("ok");
  const r = checkKline({ ...kline, quoteVolume: kline.quoteVolume - 4n }, trades);
  expect(r.outcome).toBe("values");
  expect(r.detail).toContain("quote volume 316.28394957");
});

test("each of open, high, low, close and volume must match exactly", () => {
  for (const key of ["open", "high", "low", "close", "volume"] as const) {
    const r = checkKline({ ...kline, [key]: kline[key] + 1n }, trades);
    expect(r.outcome).toBe("values");
    expect(r.detail).toContain(`${key} `);
  }
});

test("fewer stored than counted is a shortfall naming the missing ids; more is a surplus", () => {
  const short = checkKline({ ...kline, lastId: 15, count: 6 }, trades);
  expect(short.outcome).toBe("shortfall");
  expect(short.missing).toEqual([[13, 15]]);
  expect(checkKline({ ...kline, count: 2 }, trades).outcome).toBe("surplus");
});

test("missing ranges: holes, a duplicate, both ends", () => {
  expect(missingRanges([3, 4, 4, 7, 9], 1, 10)).toEqual([
    [1, 2],
    [5, 6],
    [8, 8],
    [10, 10],
  ]);
  expect(missingRanges([], 5, 6)).toEqual([[5, 6]]);
  expect(missingRanges([5, 6], 5, 6)).toEqual([]);
});
