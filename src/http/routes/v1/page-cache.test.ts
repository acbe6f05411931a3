import { describe, expect, test } from "bun:test";
import { type CachedPage, PageCache } from "./page-cache.ts";

const page = (stamp: string, bytes: number): CachedPage => ({
  stamp,
  body: new Uint8Array(bytes).fill(7),
  contentType: "application/json",
  meta: "{}",
  nextCursor: null,
});

describe("PageCache", () => {
  test("a hit needs the same stamp; another stamp is a miss", () => {
    const c = new PageCache(1000);
    c.set("k", page("1:5", 10));
    expect(c.get("k", "1:5")?.body.length).toBe(10);
    expect(c.get("k", "2:5")).toBeUndefined();
    expect(c.get("k", undefined)).toBeUndefined();
    expect(c.get("other", "1:5")).toBeUndefined();
    expect([c.hits, c.misses]).toEqual([1, 3]);
  });

  test("bounded by bytes: least recently used goes first, a page over a quarter is refused", () => {
    const c = new PageCache(1000);
    c.set("a", page("s", 250));
    c.set("b", page("s", 250));
    c.set("c", page("s", 250));
    c.get("a", "s"); // a is now the most recently used
    c.set("d", page("s", 250));
    expect(c.bytes).toBe(1000);
    c.set("e", page("s", 250));
    expect(c.bytes).toBe(1000);
    expect(c.evicted).toBe(1);
    expect(c.get("b", "s")).toBeUndefined();
    expect(c.get("a", "s")).toBeDefined();
    c.set("big", page("s", 251));
    expect(c.refused).toBe(1);
    expect(c.get("big", "s")).toBeUndefined();
    c.set("a", page("t", 100)); // replacing an entry frees its old bytes
    expect(c.bytes).toBe(850);
  });

  test("a gzip twin is made once and counted with its page until the page goes", () => {
    const c = new PageCache(100_000);
    const p = page("s", 5000);
    c.set("k", p);
    const z = c.gzipped("k", p);
    expect(Buffer.from(Bun.gunzipSync(z as Uint8Array<ArrayBuffer>)).equals(Buffer.from(p.body))).toBe(true);
    expect(c.gzipped("k", p)).toBe(z);
    expect(c.bytes).toBe(5000 + z.length);
    c.set("k", page("t", 10)); // replaced: the old page's body and twin both leave
    expect(c.bytes).toBe(10);
    const gone = page("u", 5000); // not in the cache: its twin is made but not counted
    c.gzipped("other", gone);
    expect(c.bytes).toBe(10);
  });

  test("capacity 0 keeps nothing", () => {
    const c = new PageCache(0);
    c.set("k", page("s", 1));
    expect(c.get("k", "s")).toBeUndefined();
    expect(c.bytes).toBe(0);
  });
});
