import { describe, expect, test } from "bun:test";
import { CandleCache, clonePartial, mergeInto } from "./candle-cache.ts";
import type { CandlePartial } from "./ohlcv.ts";
import type { FileInfo } from "./types.ts";

const partial = (
  bucketUs: number,
  firstId: number,
  lastId: number,
  open: bigint,
  close: bigint,
): CandlePartial => ({
  bucketUs,
  open,
  high: open > close ? open : close,
  low: open < close ? open : close,
  close,
  volume8: 100n,
  quote16: 1000n,
  count: lastId - firstId + 1,
  firstId,
  lastId,
});
const file = (path: string, rows = 10): FileInfo => ({
  path,
  rows,
  minId: 1,
  maxId: rows,
  minEventUs: 0,
  maxEventUs: 1,
});

describe("CandleCache", () => {
  test("keys change with the file's content identity and the interval", () => {
    const a = CandleCache.key(file("/d/a.parquet"), 60);
    expect(CandleCache.key(file("/d/a.parquet"), 60)).toBe(a);
    expect(CandleCache.key(file("/d/a.parquet", 11), 60)).not.toBe(a);
    expect(CandleCache.key(file("/d/a.parquet"), 3600)).not.toBe(a);
  });

  test("bounded by partials held, least recently used out first, counted", () => {
    const c = new CandleCache({ maxPartials: 8 });
    const two = [partial(0, 1, 1, 1n, 1n), partial(60, 2, 2, 1n, 1n)];
    c.set("a", two);
    c.set("b", two);
    c.set("c", two);
    c.set("d", two);
    expect(c.size).toBe(8);
    expect(c.get("a")).toBeDefined(); // a is now the most recent
    c.set("e", two);
    expect(c.size).toBe(8);
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBeDefined();
    expect(c.evicted).toBe(1);
    c.set("huge", [...two, ...two, ...two]); // 6 > a quarter of 8
    expect(c.get("huge")).toBeUndefined();
    expect(c.refused).toBe(1);
    expect([c.hits, c.misses]).toEqual([2, 2]);
    expect(Object.isFrozen(c.get("a"))).toBe(true);
  });

  test("a deleted file's entries (every interval) go at once; other files' stay", () => {
    const c = new CandleCache({ maxPartials: 100 });
    const one = [partial(0, 1, 1, 1n, 1n)];
    const a = file("/d/x|odd name.parquet");
    const b = file("/d/b.parquet");
    c.set(CandleCache.key(a, 60), one);
    c.set(CandleCache.key(a, 3600), one);
    c.set(CandleCache.key(b, 60), one);
    expect([c.entries, c.size]).toEqual([3, 3]);
    expect(c.dropFiles(["/d/x|odd name.parquet", "/d/never-cached.parquet"])).toBe(2);
    expect([c.entries, c.size]).toEqual([1, 1]);
    expect(c.get(CandleCache.key(a, 60))).toBeUndefined();
    expect(c.get(CandleCache.key(b, 60))).toBeDefined();
    // Evicted entries leave no index behind: dropping them later is a no-op.
    const small = new CandleCache({ maxPartials: 4 });
    for (const n of ["p1", "p2", "p3", "p4", "p5"]) small.set(CandleCache.key(file(n), 60), one);
    expect(small.entries).toBe(4);
    expect(small.dropFiles(["p1"])).toBe(0);
    expect(small.dropFiles(["p5"])).toBe(1);
  });

  test("capacity 0 disables it", () => {
    const c = new CandleCache({ maxPartials: 0 });
    c.set("a", [partial(0, 1, 1, 1n, 1n)]);
    expect([c.enabled, c.size, c.get("a")]).toEqual([false, 0, undefined]);
    expect(() => new CandleCache({ maxPartials: -1 })).toThrow(RangeError);
  });
});

describe("mergeInto", () => {
  test("open and close follow the lowest and highest id, in any merge order", () => {
    const x = partial(0, 10, 19, 5n, 7n);
    const y = partial(0, 20, 29, 9n, 3n);
    const z = partial(0, 1, 9, 4n, 6n);
    const a = clonePartial(y);
    mergeInto(a, x);
    mergeInto(a, z);
    const b = clonePartial(z);
    mergeInto(b, y);
    mergeInto(b, x);
    expect(a).toEqual(b);
    expect([a.open, a.close, a.high, a.low, a.firstId, a.lastId, a.count]).toEqual([
      4n,
      3n,
      9n,
      3n,
      1,
      29,
      29,
    ]);
    expect([a.volume8, a.quote16]).toEqual([300n, 3000n]);
    expect(y.firstId).toBe(20); // the source partials are untouched
  });
});
