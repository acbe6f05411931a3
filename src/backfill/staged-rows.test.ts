import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Table } from "../model/index.ts";
import { BatchPool, dayOfUs, type FileInfo, type TableBatch, US_PER_DAY } from "../sink/parquet/index.ts";
import { planJobs } from "./plan.ts";
import { StagedRows } from "./staged-rows.ts";
import { StoredIds } from "./stored.ts";

const DAY0 = dayOfUs(Date.UTC(2025, 0, 2) * 1000);
const daily = planJobs(["BTCUSDT"], ["trades"], "2025-01-02", "2025-01-02", { period: "daily" })[0]!;
const monthly = planJobs(["BTCUSDT"], ["trades"], "2024-11-01", "2024-11-30", {
  period: "monthly",
  nowMs: Date.UTC(2025, 0, 15),
})[0]!;

interface Row {
  id: number;
  us: number;
  price: bigint;
}

/** Rows through StagedRows the way the CSV parser hands them on: `slots` at most per flush. */
function stage(rows: Row[], stored: number[], o: { slots: number; batchRows: number; job?: typeof daily }) {
  const files: { date: string; ids: number[]; prices: bigint[]; us: number[] }[] = [];
  const write = (b: TableBatch) => {
    files.push({
      date: b.date,
      ids: [...b.columns.id.subarray(0, b.rows)],
      prices: [...b.columns.dec0.subarray(0, b.rows)],
      us: [...b.columns.event_time_us.subarray(0, b.rows)],
    });
    b.rows = 0;
    return { path: `f${files.length}` } as FileInfo;
  };
  const s = new StagedRows(
    o.job ?? daily,
    { batchRows: o.batchRows, batches: new BatchPool(2), write },
    StoredIds.of(stored),
    "test.zip",
    o.slots,
  );
  let slot = 0;
  for (const r of rows) {
    const w = s.window;
    w.kind[slot] = Table.trades;
    w.symbol_id[slot] = (o.job ?? daily).symbolId;
    w.id[slot] = r.id;
    w.event_time_us[slot] = r.us;
    w.trade_time_us[slot] = r.us;
    w.recv_time_us[slot] = 1;
    w.dec0[slot] = r.price;
    w.dec1[slot] = 1n;
    w.flags[slot] = 0;
    if (++slot === w.capacity) {
      s.flush(slot);
      slot = 0;
    }
  }
  if (slot > 0) s.flush(slot);
  s.finish();
  return { s, files };
}

const rowArb = (days: number) =>
  fc
    .array(
      fc.record({
        step: fc.integer({ min: 1, max: 3 }),
        day: fc.integer({ min: 0, max: days - 1 }),
        stored: fc.boolean(),
      }),
      { maxLength: 60 },
    )
    .map((xs) => {
      let id = 100;
      // Days mostly rise (a monthly file), with strays back: sorted with a few swaps.
      return xs.map((x, i) => {
        id += x.step;
        return { id, us: (DAY0 + x.day) * US_PER_DAY + i, price: BigInt(id) * 7n, stored: x.stored };
      });
    });

describe("StagedRows: parsed rows into day batches, straight into the batch's columns", () => {
  test("property: every row not stored lands once, in its day's file, with its values, for any window size", () => {
    fc.assert(
      fc.property(
        rowArb(3),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        (rows, slots, batchRows, isMonthly) => {
          const stored = rows.filter((r) => r.stored).map((r) => r.id);
          const { s, files } = stage(rows, stored, { slots, batchRows, job: isMonthly ? monthly : daily });
          const want = rows.filter((r) => !r.stored);
          const got = files.flatMap((f) =>
            f.ids.map((id, i) => ({ id, us: f.us[i]!, price: f.prices[i]!, date: f.date })),
          );
          expect(got.map((r) => r.id).sort((a, b) => a - b)).toEqual(want.map((r) => r.id));
          for (const r of got) {
            expect(r.price).toBe(BigInt(r.id) * 7n);
            expect(dayOfUs(r.us)).toBe(dayOfUs(Date.parse(`${r.date}T00:00:00Z`) * 1000));
          }
          expect(s.written).toBe(want.length);
          expect(s.alreadyStored).toBe(stored.length);
          expect(files.every((f) => f.ids.length <= batchRows && f.ids.length > 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a day's rows go straight to its batch: one file per full batch, the last one partial", () => {
    const rows = Array.from({ length: 25 }, (_, i) => ({ id: 1 + i, us: DAY0 * US_PER_DAY + i, price: 5n }));
    const { files } = stage(rows, [], { slots: 4, batchRows: 10 });
    expect(files.map((f) => f.ids.length)).toEqual([10, 10, 5]);
    expect(files.flatMap((f) => f.ids)).toEqual(rows.map((r) => r.id));
  });

  test("ids that do not rise refuse the file, in the fast path and after a stored id alike", () => {
    const at = (id: number, i: number) => ({ id, us: DAY0 * US_PER_DAY + i, price: 1n });
    expect(() => stage([at(1, 0), at(2, 1), at(5, 2), at(5, 3)], [], { slots: 2, batchRows: 10 })).toThrow(
      "id 5 after 5",
    );
    expect(() => stage([at(1, 0), at(3, 1), at(2, 2)], [1], { slots: 2, batchRows: 10 })).toThrow(
      "id 2 after 3",
    );
  });
});
