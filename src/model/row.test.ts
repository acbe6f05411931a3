import { describe, expect, test } from "bun:test";
import {
  allocRowColumns,
  allocTableRows,
  copyRow,
  copyTableRow,
  growRows,
  ROW_ARRAYS,
  rowColumnsBytes,
  rowsBytes,
  TABLE_ROW_SLOTS,
} from "./row.ts";
import { TABLE_NAMES, Table } from "./tables.ts";

test("copyRow copies every column of one row, decimals with both 32-bit words, and nothing else", () => {
  const src = filledRow(3);
  const dst = allocRowColumns(4);
  copyRow(src, 1, dst, 2);
  for (const k of ROW_ARRAYS) {
    expect(dst[k][2]).toBe(src[k][1]!);
    for (const other of [0, 1, 3]) expect(dst[k][other]).toBe(k.startsWith("dec") ? 0n : 0);
  }
});

/** A full-layout row with a distinct non-zero value in every slot. */
function filledRow(kind: number): ReturnType<typeof allocRowColumns> {
  const src = allocRowColumns(2);
  src.kind[1] = kind;
  src.symbol_id[1] = 77;
  src.id[1] = 2 ** 52 + 7;
  src.first_id[1] = 1002;
  src.last_id[1] = 1003;
  src.trade_time_us[1] = 1_700_000_000_000_004;
  src.event_time_us[1] = 1_700_000_000_000_005;
  src.recv_time_us[1] = 1_700_000_000_000_006;
  src.dec0[1] = 6_500_012_345_678n;
  src.dec1[1] = -(2n ** 62n) + 5n;
  src.dec2[1] = 2n ** 63n - 1n;
  src.dec3[1] = -7n;
  src.flags[1] = 0b111;
  return src;
}

describe("rows of one table (allocTableRows, copyTableRow)", () => {
  test.each(TABLE_NAMES)("%s: room for its slots only, and copyTableRow fills exactly them", (table) => {
    const stored = new Set<string>(["kind", "symbol_id", ...TABLE_ROW_SLOTS[table]]);
    const dst = allocTableRows(table, 3);
    for (const k of ROW_ARRAYS) expect([k, dst[k].length]).toEqual([k, stored.has(k) ? 3 : 0]);
    expect(rowsBytes(dst)).toBeLessThan(rowColumnsBytes(3));
    expect(rowsBytes(allocRowColumns(3))).toBe(rowColumnsBytes(3));
    const src = filledRow(Table[table]);
    copyTableRow(Table[table], src, 1, dst, 2);
    for (const k of ROW_ARRAYS) {
      if (!stored.has(k)) continue;
      expect([k, dst[k][2]]).toEqual([k, src[k][1]!]);
      expect([k, dst[k][1]]).toEqual([k, k.startsWith("dec") ? 0n : 0]);
    }
  });

  test("a trade row takes 52 B instead of 84", () => {
    expect(rowsBytes(allocTableRows("trades", 1000))).toBe(52_000);
    expect(rowColumnsBytes(1000)).toBe(84_000);
  });

  test("growRows keeps the slots its source leaves empty, and the rows", () => {
    const q = allocTableRows("quotes", 2);
    copyTableRow(Table.quotes, filledRow(Table.quotes), 1, q, 1);
    const grown = growRows(q, 2, 8);
    expect(grown.capacity).toBe(8);
    for (const k of ROW_ARRAYS) expect([k, grown[k].length]).toEqual([k, q[k].length === 0 ? 0 : 8]);
    expect(grown.dec3[1]).toBe(-7n);
    expect(grown.id[1]).toBe(2 ** 52 + 7);
    expect(rowsBytes(growRows(allocRowColumns(2), 2, 8))).toBe(rowColumnsBytes(8));
  });
});
