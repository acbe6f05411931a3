/**
 * Parquet batches kept for the next file: a batch's columns are zeroed when allocated, and a new
 * allocation per file showed as ~10 % of a backfill's time (native-bench/backfill.ts) and as
 * 7–13 ms per file on the live consumer's event loop (native-bench/README.md "Event-loop lag").
 * A batch is reused for the same table and capacity, re-keyed to its new (symbol, day). Bounded
 * by count: a batch given beyond `max` pushes out the one kept longest (a size no longer asked for).
 */
import { type BatchKey, createBatch, type TableBatch } from "./batch.ts";
import { dateOfDay, US_PER_DAY } from "./layout.ts";

export class BatchPool {
  readonly #free: TableBatch[] = [];
  constructor(readonly max: number) {}

  /** A batch for (table, symbol, day) of `capacity` rows, reused when one fits. */
  take(key: Omit<BatchKey, "day" | "exchange">, day: number, capacity: number): TableBatch {
    const i = this.#free.findIndex((b) => b.table === key.table && b.capacity === capacity);
    if (i < 0)
      return createBatch({ table: key.table, symbol: key.symbol, symbolId: key.symbolId, day }, capacity);
    const b = this.#free.splice(i, 1)[0]!;
    // Same table and size: the columns fit; only the key changes (createBatch's fields, re-set).
    return {
      ...b,
      symbol: key.symbol,
      symbolId: key.symbolId,
      date: dateOfDay(day),
      dayStartUs: day * US_PER_DAY,
      dayEndUs: (day + 1) * US_PER_DAY,
      rows: 0,
      writing: false,
    };
  }

  /** An empty batch (written, its columns back) for a later take. */
  give(b: TableBatch): void {
    this.#free.push(b);
    if (this.#free.length > this.max) this.#free.shift();
  }

  /** Batches kept. */
  get size(): number {
    return this.#free.length;
  }
}
