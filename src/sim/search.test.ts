import { expect, test } from "bun:test";
import { partitionPoint } from "./search.ts";

test("partitionPoint: the first index where the predicate holds, hi when none, lo when all", () => {
  const xs = [1, 3, 3, 5, 8, 13];
  const lowerBound = (k: number, lo = 0) => partitionPoint(lo, xs.length, (i) => xs[i]! >= k);
  for (let k = 0; k <= 14; k++) {
    const linear = xs.findIndex((x) => x >= k);
    expect({ k, at: lowerBound(k) }).toEqual({ k, at: linear < 0 ? xs.length : linear });
  }
  expect(lowerBound(0, 2)).toBe(2); // never below lo
  expect(partitionPoint(4, 4, () => true)).toBe(4); // empty range
  expect(partitionPoint(0, 6, (i) => xs[i]! > 3)).toBe(3); // upper bound of 3
});
