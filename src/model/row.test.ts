import { expect, test } from "bun:test";
import { allocRowColumns, copyRow, ROW_ARRAYS } from "./row.ts";

test("copyRow copies every column of one row, decimals with both 32-bit words, and nothing else", () => {
  const src = allocRowColumns(3);
  const dst = allocRowColumns(4);
  src.kind[1] = 3;
  src.symbol_id[1] = 513;
  src.id[1] = 2 ** 52 + 7;
  src.first_id[1] = 11;
  src.last_id[1] = 12;
  src.trade_time_us[1] = 1_700_000_000_000_001;
  src.event_time_us[1] = 1_700_000_000_000_002;
  src.recv_time_us[1] = 1_700_000_000_000_003;
  src.dec0[1] = 6_500_012_345_678n;
  src.dec1[1] = -(2n ** 62n) + 5n;
  src.dec2[1] = 2n ** 63n - 1n;
  src.dec3[1] = -1n;
  src.flags[1] = 1;
  copyRow(src, 1, dst, 2);
  for (const k of ROW_ARRAYS) {
    expect(dst[k][2]).toBe(src[k][1]!);
    for (const other of [0, 1, 3]) expect(dst[k][other]).toBe(k.startsWith("dec") ? 0n : 0);
  }
});
