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
