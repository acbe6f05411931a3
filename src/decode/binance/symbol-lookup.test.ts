import { describe, expect, test } from "bun:test";
import { SymbolTable } from "../../model/index.ts";
import { SymbolLookup } from "./symbol-lookup.ts";

describe("SymbolLookup", () => {
  test("finds every interned symbol in string and bytes form, and nothing else", () => {
    const names = Array.from({ length: 2000 }, (_, i) => `S${i.toString(36).toUpperCase()}USDT`);
    const table = new SymbolTable(names);
    const lookup = new SymbolLookup(table);
    const enc = new TextEncoder();
    for (const n of names) {
      const frame = `"s":"${n}","t":1`;
      expect(lookup.find(frame, 5, frame.length)).toBe(table.id(n)!);
      expect(lookup.stop).toBe(5 + n.length);
      expect(lookup.find(enc.encode(frame), 5, frame.length)).toBe(table.id(n)!);
    }
    for (const miss of ["SUSDT", "S0USD", "s0USDT", "S0USDTX", "", "A".repeat(25)])
      expect(lookup.findText(miss)).toBe(-1);
  });
  test("findView: every symbol of 2–20 characters, shared first four bytes, and misses", () => {
    // Many names share their first four bytes (one key, so one probe sequence); lengths cover the
    // key-only (≤ 3), key + last word (4–7) and middle-word (≥ 8) records.
    const names = ["AB", "ABC", "ABCD", "BTCUSDT", "BTCUSDC", "BTCUSDTX", "X1234567890123456789"];
    for (let i = 0; i < 500; i++) names.push(`BTCU${i.toString(36).toUpperCase()}`);
    const lookup = new SymbolLookup(new SymbolTable(names));
    const buf = new Uint8Array(64);
    const view = new DataView(buf.buffer);
    const at = (text: string) => {
      buf.fill(0x7d); // '}' past the text, as after a frame's end
      buf.set(new TextEncoder().encode(text), 3);
      return lookup.findView(view, 3);
    };
    for (const [id, n] of names.entries()) {
      expect(at(`${n}","t":1`)).toBe(id);
      expect(lookup.stop).toBe(3 + n.length);
    }
    for (const miss of ["A", "ABCDE", "BTCUSD", "BTCUSDTXY", "X123456789012345678", "BTCUZZZZ", "btcusdt"])
      expect(at(`${miss}","t":1`)).toBe(-1);
  });

  test("refresh() picks up symbols interned after construction", () => {
    const table = new SymbolTable(["BTCUSDT"]);
    const lookup = new SymbolLookup(table);
    expect(lookup.findText("ETHUSDT")).toBe(-1);
    table.intern("ETHUSDT");
    lookup.refresh();
    expect(lookup.findText("ETHUSDT")).toBe(1);
    expect(lookup.size).toBe(2);
  });
});
