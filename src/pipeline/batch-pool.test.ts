import { expect, test } from "bun:test";
import { rowColumnsBytes } from "../model/row.ts";
import { INITIAL_ROWS } from "../sink/batcher.ts";
import { batchPool } from "./storage.ts";

test("the batch pool holds every key's open batch and one being written, within a fixed memory", () => {
  // Defaults: 3 symbols, three tables: the floor of 64, full-size first buffers.
  expect(batchPool(3, ["trade", "aggTrade", "bookTicker", "kline"])).toEqual({
    maxBatches: 64,
    initialRows: INITIAL_ROWS,
    poolBytes: 64 * 1024 * 1024,
  });
  // 300 order books are 900 keys (deltas, snapshots, checkpoints): 1,800 batches, small buffers.
  const books = batchPool(300, ["depth", "depth20"]);
  expect(books.maxBatches).toBe(1800);
  expect(books.initialRows).toBe(256);
  expect(books.maxBatches * rowColumnsBytes(books.initialRows)).toBeLessThanOrEqual(books.poolBytes);
  // Between the two: a power of two that fits.
  const mid = batchPool(100, ["trade", "aggTrade"]);
  expect(mid.maxBatches).toBe(400);
  expect(mid.initialRows).toBe(1024);
});
