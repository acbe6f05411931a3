import { describe, expect, test } from "bun:test";
import { type CachedPage, PageCache } from "./page-cache.ts";

const page = (stamp: string, bytes: number): CachedPage => ({
  stamp,
  body: new Uint8Array(bytes).fill(7),
  contentType: "application/json",
  meta: "{}",
  nextCursor: null,
});

/** Keep `p` as the only key of its own scope, read at the scope's current stamp. */
const put = (c: PageCache, key: string, p: CachedPage) => c.set(key, p, key, p.stamp);

describe("PageCache", () => {
  test("a hit needs the same stamp; another stamp is a miss", () => {
    const c = new PageCache(1000);
    put(c, "k", page("1:5", 10));
    expect(c.get("k", "1:5")?.body.length).toBe(10);
    expect(c.get("k", "2:5")).toBeUndefined();
    expect(c.get("k", undefined)).toBeUndefined();
    expect(c.get("other", "1:5")).toBeUndefined();
    expect([c.hits, c.misses]).toEqual([1, 3]);
  });

  test("bounded by bytes: least recently used goes first, a page over a quarter is refused", () => {
    const c = new PageCache(1000);
    put(c, "a", page("s", 250));
    put(c, "b", page("s", 250));
    put(c, "c", page("s", 250));
    c.get("a", "s"); // a is now the most recently used
    put(c, "d", page("s", 250));
    expect(c.bytes).toBe(1000);
    put(c, "e", page("s", 250));
    expect(c.bytes).toBe(1000);
    expect(c.evicted).toBe(1);
    expect(c.get("b", "s")).toBeUndefined();
    expect(c.get("a", "s")).toBeDefined();
    put(c, "big", page("s", 251));
    expect(c.refused).toBe(1);
    expect(c.get("big", "s")).toBeUndefined();
    put(c, "a", page("t", 100)); // replacing an entry frees its old bytes
    expect(c.bytes).toBe(850);
  });

  test("a gzip twin is made once and counted with its page until the page goes", () => {
    const c = new PageCache(100_000);
    const p = page("s", 5000);
    put(c, "k", p);
    const z = c.gzipped("k", p);
    expect(Buffer.from(Bun.gunzipSync(z as Uint8Array<ArrayBuffer>)).equals(Buffer.from(p.body))).toBe(true);
    expect(c.gzipped("k", p)).toBe(z);
    expect(c.bytes).toBe(5000 + z.length);
    put(c, "k", page("t", 10)); // replaced: the old page's body and twin both leave
    expect(c.bytes).toBe(10);
    const gone = page("u", 5000); // not in the cache: its twin is made but not counted
    c.gzipped("other", gone);
    expect(c.bytes).toBe(10);
  });

  test("capacity 0 keeps nothing", () => {
    const c = new PageCache(0);
    put(c, "k", page("s", 1));
    expect(c.get("k", "s")).toBeUndefined();
    expect(c.bytes).toBe(0);
  });

  test("a page whose scope's stamp moved on leaves at once; other scopes' pages stay", () => {
    const c = new PageCache(100_000);
    c.set("a", page("1:5", 100), "trades|BTCUSDT", "1:5");
    c.set("b", page("1:5", 200), "trades|BTCUSDT", "1:5");
    c.set("e", page("7:1", 400), "trades|ETHUSDT", "7:1");
    expect(c.bytes).toBe(700);
    expect(c.get("a", "2:5")).toBeUndefined(); // asked after a new row: a is dead
    expect(c.bytes).toBe(600);
    c.set("c", page("2:5", 50), "trades|BTCUSDT", "2:5"); // b was read before that row too
    expect(c.bytes).toBe(450);
    expect(c.get("b", "1:5")).toBeUndefined();
    expect(c.get("c", "2:5")?.body.length).toBe(50);
    expect(c.get("e", "7:1")?.body.length).toBe(400);
    expect(c.evicted).toBe(0);
  });

  test("a page read before the scope's current stamp is not kept", () => {
    const c = new PageCache(100_000);
    c.set("k", page("1:5", 100), "quotes|BTCUSDT", "2:5");
    expect(c.bytes).toBe(0);
    expect(c.get("k", "1:5")).toBeUndefined();
  });

  test("query strings that never repeat hold one page per scope, not the capacity", () => {
    const c = new PageCache(1_000_000);
    for (let i = 0; i < 1000; i++) c.set(`start=${i}`, page(`${i}:0`, 1000), "trades|BTCUSDT", `${i}:0`);
    expect(c.bytes).toBe(1000);
    expect(c.evicted).toBe(0);
    expect(c.get("start=999", "999:0")?.body.length).toBe(1000);
  });
});
