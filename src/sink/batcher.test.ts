import { describe, expect, test } from "bun:test";
import { allocTableRows, rowColumnsBytes, rowsBytes } from "../model/row.ts";
import { Table } from "../model/tables.ts";
import { Ring } from "../ring/ring.ts";
import { type Batch, Batcher, dayOf, INITIAL_ROWS, US_PER_DAY } from "./batcher.ts";

function push(
  ring: Ring,
  walSeq: Float64Array,
  kind: number,
  sym: number,
  id: number,
  eventUs: number,
  seq: number,
) {
  const slot = ring.claim();
  if (slot < 0) throw new Error("ring full");
  ring.rows.kind[slot] = kind;
  ring.rows.symbol_id[slot] = sym;
  ring.rows.id[slot] = id;
  ring.rows.event_time_us[slot] = eventUs;
  walSeq[slot] = seq;
  ring.commit();
}

function setup(writer: (b: Batch) => Promise<void>, maxRows = 3) {
  let now = 0;
  const ring = new Ring(64);
  const walSeq = new Float64Array(64);
  const written: { kind: number; sym: number; day: number; ids: number[] }[] = [];
  const b = new Batcher(
    ring,
    walSeq,
    {
      write: async (batch) => {
        await writer(batch);
        written.push({
          kind: batch.kind,
          sym: batch.symbolId,
          day: batch.day,
          ids: Array.from(batch.rows.id.subarray(0, batch.count)),
        });
      },
    },
    { maxRows, flushIntervalMs: 100, maxBatches: 8, retryDelayMs: () => 1, nowMs: () => now },
  );
  return { ring, walSeq, b, written, tick: (ms: number) => (now += ms) };
}

describe("Batcher", () => {
  test("groups rows by (table, UTC day, symbol) and cuts a file at maxRows", async () => {
    const s = setup(async () => {});
    const day = 20_000 * US_PER_DAY;
    let seq = 1;
    for (let id = 1; id <= 4; id++) push(s.ring, s.walSeq, Table.trades, 0, id, day + id, seq++);
    push(s.ring, s.walSeq, Table.trades, 1, 50, day + 5, seq++);
    push(s.ring, s.walSeq, Table.quotes, 0, 900, day + 6, seq++);
    push(s.ring, s.walSeq, Table.trades, 0, 5, day + US_PER_DAY, seq++); // next UTC day
    expect(s.b.drain()).toBe(7);
    await Bun.sleep(1);
    expect(s.written).toEqual([{ kind: Table.trades, sym: 0, day: dayOf(day), ids: [1, 2, 3] }]);
    expect(s.b.pendingRows()).toBe(4);
    // Nothing is durable past the oldest row still waiting (row 4, WAL seq 4).
    expect(s.b.durableWatermark(7)).toBe(3);
    s.tick(100);
    s.b.flushDue();
    await Bun.sleep(1);
    expect(s.written).toHaveLength(5);
    expect(s.b.pendingRows()).toBe(0);
    expect(s.b.durableWatermark(7)).toBe(7);
    expect(s.b.rowsWritten).toBe(7);
  });

  test("a failed write keeps its rows and retries; nothing is lost or written twice", async () => {
    let fail = 2;
    const s = setup(async () => {
      if (fail-- > 0) throw new Error("ENOSPC");
    });
    for (let id = 1; id <= 3; id++) push(s.ring, s.walSeq, Table.trades, 0, id, 1, id);
    s.b.drain();
    expect(await s.b.idle(500)).toBe(true);
    expect(s.b.writeFailures).toBe(2);
    expect(s.written).toEqual([{ kind: Table.trades, sym: 0, day: 0, ids: [1, 2, 3] }]);
  });

  test("when every batch buffer is busy, rows stay in the ring (backpressure)", () => {
    const s = setup(() => new Promise(() => {}), 1); // writes never finish
    for (let id = 1; id <= 20; id++) push(s.ring, s.walSeq, Table.trades, id % 16, id, 1, id);
    s.b.drain();
    expect(s.b.busy).toBeLessThanOrEqual(8);
    expect(s.ring.available()).toBeGreaterThan(0);
  });

  test("buffers kept for one table do not stall another's rows: one is let go for the other", async () => {
    const s = setup(async () => {}, 3);
    const day = 20_000 * US_PER_DAY;
    let seq = 1;
    // 8 trade batches (maxBatches 8), written: 8 trade buffers in the pool, none free for quotes.
    for (let sym = 0; sym < 8; sym++) push(s.ring, s.walSeq, Table.trades, sym, 1, day + 1, seq++);
    expect(s.b.drain()).toBe(8);
    s.b.flushDue(true);
    await Bun.sleep(1);
    expect(s.written.length).toBe(8);
    push(s.ring, s.walSeq, Table.quotes, 0, 900, day + 2, seq++);
    expect(s.b.drain()).toBe(1);
    s.b.flushDue(true);
    await Bun.sleep(1);
    expect(s.written.at(-1)).toEqual({ kind: Table.quotes, sym: 0, day: 20_000, ids: [900] });
    expect(s.b.pendingRows()).toBe(0);
  });

  /** Bytes of a trade batch's buffer (52 a row, model/row.ts allocTableRows). */
  const tradeRowsBytes = (n: number) => rowsBytes(allocTableRows("trades", n));

  /** A batcher whose writes record each batch's buffer capacity and ids (and check every row). */
  function burstRig(poolBytes?: number) {
    const ring = new Ring(1024);
    const walSeq = new Float64Array(1024);
    const capacities: number[] = [];
    const ids: number[][] = [];
    const day = 20_000 * US_PER_DAY;
    const b = new Batcher(
      ring,
      walSeq,
      {
        write: async (batch) => {
          capacities.push(batch.rows.capacity);
          ids.push(Array.from(batch.rows.id.subarray(0, batch.count)));
          // Every row of the batch, not only the ids, survived the copies.
          for (let i = 0; i < batch.count; i++)
            expect(batch.rows.event_time_us[i]).toBe(day + batch.rows.id[i]!);
        },
      },
      {
        maxRows: 100_000,
        flushIntervalMs: 100,
        maxBatches: 4,
        nowMs: () => 0,
        ...(poolBytes ? { poolBytes } : {}),
      },
    );
    let id = 1;
    /** `n` rows of symbol 0 through the ring, then cut and written. */
    const rows = async (n: number) => {
      const last = id + n - 1;
      while (id <= last) {
        while (id <= last && ring.available() < ring.capacity)
          push(ring, walSeq, Table.trades, 0, id, day + id, id++);
        b.drain();
      }
      b.flushDue(true);
      await Bun.sleep(1);
    };
    return { b, capacities, ids, rows };
  }

  test("a burst grows its buffer (rows intact, in order); the grown buffer serves the next batch", async () => {
    const r = burstRig();
    const burst = 3 * INITIAL_ROWS + 5; // grows 4096 → 8192 → 16384
    await r.rows(burst);
    expect(r.capacities).toEqual([4 * INITIAL_ROWS]);
    expect(r.ids[0]).toEqual(Array.from({ length: burst }, (_, i) => i + 1));
    // Within the pool's bytes (4 buffers of INITIAL_ROWS by default): kept, so the next burst
    // of the same size needs no new buffer. A trade batch has room for the trades' slots only.
    expect(r.b.pooledBytes).toBe(tradeRowsBytes(4 * INITIAL_ROWS));
    await r.rows(burst);
    expect(r.capacities).toEqual([4 * INITIAL_ROWS, 4 * INITIAL_ROWS]);
    expect(r.ids[1]).toEqual(Array.from({ length: burst }, (_, i) => burst + i + 1));
    expect(r.b.rowsWritten).toBe(2 * burst);
  });

  test("a grown buffer beyond the pool's bytes goes back to the allocator: the next batch starts small", async () => {
    const r = burstRig(rowColumnsBytes(2 * INITIAL_ROWS));
    const burst = 3 * INITIAL_ROWS + 5;
    await r.rows(burst);
    expect(r.b.pooledBytes).toBe(0);
    await r.rows(1);
    expect(r.capacities).toEqual([4 * INITIAL_ROWS, INITIAL_ROWS]);
    expect(r.b.pooledBytes).toBe(tradeRowsBytes(INITIAL_ROWS));
    expect(r.b.rowsWritten).toBe(burst + 1);
  });
});
