import { expect, test } from "bun:test";
import { allocRowColumns, Table } from "../../model/index.ts";
import { AppendStatus, appendRange, appendRow, appendRows, createBatch } from "./batch.ts";
import { dateOfUs, dayOfDate, fileName, isVisibleParquetName, parsePartition, US_PER_DAY } from "./layout.ts";

const DAY = 19_675;

test("appendRow copies slots exactly and refuses rows of another table, symbol or date", () => {
  const rows = allocRowColumns(6);
  for (let i = 0; i < 6; i++) {
    rows.kind[i] = Table.quotes;
    rows.symbol_id[i] = 2;
    rows.id[i] = 10 + i;
    rows.event_time_us[i] = DAY * US_PER_DAY + i;
    rows.dec3[i] = -(2n ** 62n) + BigInt(i); // high word set: the two-word copy must keep it
  }
  rows.kind[3] = Table.trades;
  rows.symbol_id[4] = 1;
  rows.event_time_us[5] = (DAY + 1) * US_PER_DAY;
  const b = createBatch({ table: "quotes", symbol: "BTCUSDT", symbolId: 2, day: DAY }, 4);
  expect(appendRange(b, rows, 0, 3)).toBe(3);
  expect([3, 4, 5].map((s) => appendRow(b, rows, s))).toEqual([
    AppendStatus.wrong_table,
    AppendStatus.wrong_symbol,
    AppendStatus.wrong_date,
  ]);
  expect(Array.from(b.columns.dec3.subarray(0, 3))).toEqual([rows.dec3[0]!, rows.dec3[1]!, rows.dec3[2]!]);
  expect(Array.from(b.columns.id.subarray(0, 3))).toEqual([10, 11, 12]);
  rows.symbol_id[4] = 2;
  expect(appendRow(b, rows, 4)).toBe(AppendStatus.ok);
  expect(appendRow(b, rows, 0)).toBe(AppendStatus.full);
  b.writing = true;
  expect(appendRow(b, rows, 0)).toBe(AppendStatus.busy);
  expect(b.columns.flags.length).toBe(0); // quotes carry no flags: not allocated
});

test("appendRows copies a batch column by column, equal to row-by-row appends, and refuses mixed rows whole", () => {
  const n = 5;
  const rows = allocRowColumns(8);
  for (let i = 0; i < n; i++) {
    rows.kind[i] = Table.agg_trades;
    rows.symbol_id[i] = 3;
    rows.id[i] = 100 + i;
    rows.first_id[i] = 1000 + 2 * i;
    rows.last_id[i] = 1001 + 2 * i;
    rows.trade_time_us[i] = DAY * US_PER_DAY + 10 * i;
    rows.event_time_us[i] = DAY * US_PER_DAY + 10 * i + 1;
    rows.recv_time_us[i] = DAY * US_PER_DAY + 10 * i + 2;
    rows.dec0[i] = 6_500_012_345_678n + BigInt(i); // past 32 bits: both words matter
    rows.dec1[i] = -(2n ** 62n) + BigInt(i);
    rows.flags[i] = i % 2;
  }
  const key = { table: "agg_trades", symbol: "SOLUSDT", symbolId: 3, day: DAY } as const;
  const bulk = createBatch(key, 8);
  const one = createBatch(key, 8);
  expect(appendRange(one, rows, 0, n)).toBe(n);
  expect(appendRows(bulk, rows, n)).toBe(AppendStatus.ok);
  expect(bulk.rows).toBe(n);
  for (const col of ["id", "first_id", "last_id", "trade_time_us", "event_time_us", "recv_time_us"] as const)
    expect(Array.from(bulk.columns[col].subarray(0, n))).toEqual(Array.from(one.columns[col].subarray(0, n)));
  expect(Array.from(bulk.columns.dec0.subarray(0, n))).toEqual(Array.from(rows.dec0.subarray(0, n)));
  expect(Array.from(bulk.columns.dec1.subarray(0, n))).toEqual(Array.from(rows.dec1.subarray(0, n)));
  expect(Array.from(bulk.columns.flags.subarray(0, n))).toEqual([0, 1, 0, 1, 0]);
  // Four more would make 9 rows in a batch of 8.
  expect(appendRows(bulk, rows, 4)).toBe(AppendStatus.full);
  const mixed = createBatch(key, 8);
  rows.symbol_id[2] = 4;
  expect(appendRows(mixed, rows, n)).toBe(AppendStatus.wrong_symbol);
  expect(mixed.rows).toBe(0);
  rows.symbol_id[2] = 3;
  rows.event_time_us[4] = (DAY + 1) * US_PER_DAY;
  expect(appendRows(mixed, rows, n)).toBe(AppendStatus.wrong_date);
  expect(mixed.rows).toBe(0);
});

test("layout: UTC dates, names sort by id, dot-files hidden, partitions parsed strictly", () => {
  expect(dateOfUs(DAY * US_PER_DAY)).toBe("2023-11-14");
  expect(dateOfUs(DAY * US_PER_DAY - 1)).toBe("2023-11-13");
  expect(dayOfDate("2023-11-14")).toBe(DAY);
  expect(dayOfDate("2023-02-30")).toBeNull();
  const names = [fileName(999, 1500, 5, 1), fileName(10, 998, 9, 2), fileName(1501, 9e15, 1, 3)];
  expect([...names].sort()).toEqual([names[1]!, names[0]!, names[2]!]);
  expect(isVisibleParquetName(`.tmp-${names[0]}`)).toBe(false);
  expect(isVisibleParquetName(names[0]!)).toBe(true);
  // A scale-out writer's id ends the name; names of different writers differ however alike.
  expect(fileName(10, 998, 9, 2, "w1of2")).toBe(names[1]!.replace(".parquet", "-w1of2.parquet"));
  expect(fileName(10, 998, 9, 2, "w1of2")).not.toBe(fileName(10, 998, 9, 2, "w2of2"));
  expect(parsePartition("trades", "date=2023-11-14", "symbol=BTCUSDT")).toEqual({
    table: "trades",
    date: "2023-11-14",
    symbol: "BTCUSDT",
  });
  expect(parsePartition("trades", "date=2023-13-01", "symbol=BTCUSDT")).toBeNull();
  expect(parsePartition("orders", "date=2023-11-14", "symbol=BTCUSDT")).toBeNull();
});
