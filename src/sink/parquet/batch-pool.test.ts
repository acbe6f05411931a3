import { expect, test } from "bun:test";
import { BatchPool } from "./batch-pool.ts";
import { dayOfDate } from "./layout.ts";

const DAY = dayOfDate("2026-12-04")!;
const btc = { table: "trades", symbol: "BTCUSDT", symbolId: 0 } as const;
const eth = { table: "trades", symbol: "ETHUSDT", symbolId: 1 } as const;

test("a given batch serves the next take of the same table and capacity, re-keyed and empty", () => {
  const pool = new BatchPool(2);
  const a = pool.take(btc, DAY, 1024);
  a.rows = 10;
  a.writing = true;
  pool.give(a);
  const b = pool.take(eth, DAY + 1, 1024);
  expect(b.columns).toBe(a.columns); // the same buffers: nothing allocated
  expect([b.symbol, b.symbolId, b.date, b.rows, b.writing]).toEqual(["ETHUSDT", 1, "2026-12-05", 0, false]);
  expect(b.dayStartUs).toBe((DAY + 1) * 86_400_000_000);
  expect(pool.size).toBe(0);
  // Another capacity or table: a new batch, the kept one stays.
  pool.give(b);
  expect(pool.take(btc, DAY, 2048).columns).not.toBe(b.columns);
  expect(pool.take({ ...btc, table: "quotes" }, DAY, 1024).columns).not.toBe(b.columns);
  expect(pool.size).toBe(1);
});

test("beyond max, the batch kept longest goes: sizes no longer asked for do not stay", () => {
  const pool = new BatchPool(2);
  const [x, y, z] = [256, 512, 1024].map((n) => pool.take(btc, DAY, n));
  for (const b of [x!, y!, z!]) pool.give(b);
  expect(pool.size).toBe(2);
  expect(pool.take(btc, DAY, 256).columns).not.toBe(x!.columns);
  expect(pool.take(btc, DAY, 512).columns).toBe(y!.columns);
  expect(pool.take(btc, DAY, 1024).columns).toBe(z!.columns);
});
