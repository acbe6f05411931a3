import { describe, expect, test } from "bun:test";
import { ByteWriter, RowTextCache, SLOT_BYTES, tagHash } from "./row-text.ts";

const text = (s: string) => Buffer.from(s);
const read = (w: ByteWriter) => Buffer.from(w.take()).toString();

describe("RowTextCache", () => {
  test("a kept row is copied back only for its own tag and id; a collision replaces it", () => {
    const c = new RowTextCache(4);
    const w = new ByteWriter();
    const a = tagHash("trades|BTCUSDT");
    c.keep("trades|BTCUSDT", a, 10, text('{"id":10}'));
    expect(c.copyTo("trades|BTCUSDT", a, 10, w)).toBe(true);
    expect(c.copyTo("trades|ETHUSDT", a, 10, w)).toBe(false); // same slot, other tag
    expect(c.copyTo("trades|BTCUSDT", a, 11, w)).toBe(false);
    c.keep("trades|BTCUSDT", a, 14, text('{"id":14}')); // 14 maps to 10's slot of 4
    expect(c.copyTo("trades|BTCUSDT", a, 10, w)).toBe(false);
    expect(c.copyTo("trades|BTCUSDT", a, 14, w)).toBe(true);
    expect(read(w)).toBe('{"id":10}{"id":14}');
    expect([c.hits, c.misses]).toEqual([2, 3]);
  });

  test("a row longer than a slot is not kept; 0 slots keep nothing; slots must be a power of two", () => {
    const c = new RowTextCache(8);
    c.keep("t", 0, 1, new Uint8Array(SLOT_BYTES + 1));
    expect(c.copyTo("t", 0, 1, new ByteWriter())).toBe(false);
    const off = new RowTextCache(0);
    off.keep("t", 0, 1, text("x"));
    expect(off.copyTo("t", 0, 1, new ByteWriter())).toBe(false);
    expect(() => new RowTextCache(6)).toThrow("power of two");
  });
});

describe("ByteWriter", () => {
  test("grows past its first buffer, writes UTF-8, and is empty after take or begin", () => {
    const w = new ByteWriter();
    const big = "x".repeat(200_000);
    w.ascii("[");
    w.text(big);
    w.text("é€");
    w.ascii("]");
    expect(read(w)).toBe(`[${big}é€]`);
    w.ascii("half a page");
    w.begin();
    w.ascii("{}");
    expect(read(w)).toBe("{}");
  });
});
