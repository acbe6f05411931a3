/**
 * Ring queue cost (src/ring/ring.ts) against the queues a JS programmer would write first, in the
 * same run: an array of row objects used with push/shift, and a preallocated array-of-objects
 * ring. One op of the "one row" cases = claim, write every trade column, commit, read every
 * column back, release. The batch cases move 1024 rows per op, as the sink batcher does.
 * Target (issue 3): ring push+pop ≤ 20 ns.
 *
 * The one-row ring case writes and reads the columns inline in the timed closure, as a decoder's
 * body does. Moved into two helper functions, the closure exceeded JSC's inlining budget and the
 * case measured 22–25 ns instead of 11–14: the cost of two calls, not of the ring (checked with
 * BUN_JSC_maximumFunctionForCallInlineCandidateBytecodeCostForFTL=1000, which brought it back).
 */
import { FLAG_BUYER_MAKER, type RowColumns, Table } from "../src/model/index.ts";
import { Ring } from "../src/ring/index.ts";
import type { BenchSuite } from "./harness.ts";

const OPS = 2_000_000;
const BATCH = 1024;
const BATCH_OPS = 2_000;
const CAPACITY = 65_536;
const T0_US = 1_700_000_000_000_000;

/** Read results land here so the JIT cannot drop the reads. */
let sink = 0;

interface TradeObj {
  kind: number;
  symbol_id: number;
  id: number;
  trade_time_us: number;
  event_time_us: number;
  recv_time_us: number;
  price: bigint;
  quantity: bigint;
  flags: number;
}

// Objects carry the same fields; BigInt price/quantity are small constants so the baseline is
// not charged for BigInt arithmetic the ring avoids by design.
const PRICE = 6_543_210_000_000n;
const QTY = 1_000_000n;
function tradeObj(i: number): TradeObj {
  return {
    kind: Table.trades,
    symbol_id: i & 7,
    id: i,
    trade_time_us: T0_US + i,
    event_time_us: T0_US + i + 1,
    recv_time_us: T0_US + i + 2,
    price: PRICE,
    quantity: QTY,
    flags: i & FLAG_BUYER_MAKER,
  };
}
function readObj(o: TradeObj): number {
  return (
    o.kind +
    o.symbol_id +
    o.id +
    o.trade_time_us +
    o.event_time_us +
    o.recv_time_us +
    (o.price === PRICE ? 1 : 0) +
    (o.quantity === QTY ? 1 : 0) +
    o.flags
  );
}

/** Claim, write every trade column and commit `BATCH` rows: the decoder's side of a burst. */
function produceBatch(ring: Ring, i: number): void {
  const r = ring.rows;
  for (let k = 0; k < BATCH; k++) {
    const w = ring.claim();
    const v = i + k;
    r.kind[w] = Table.trades;
    r.symbol_id[w] = v & 7;
    r.id[w] = v;
    r.trade_time_us[w] = T0_US + v;
    r.event_time_us[w] = T0_US + v + 1;
    r.recv_time_us[w] = T0_US + v + 2;
    r.dec0w[2 * w] = 6_543_210_000 + (v & 1023);
    r.dec0w[2 * w + 1] = 1523;
    r.dec1w[2 * w] = 1_000_000 + (v & 255);
    r.dec1w[2 * w + 1] = 0;
    r.flags[w] = v & FLAG_BUYER_MAKER;
    ring.commit();
  }
}

function readRow(r: RowColumns, s: number): void {
  sink +=
    r.kind[s]! +
    r.symbol_id[s]! +
    r.id[s]! +
    r.trade_time_us[s]! +
    r.event_time_us[s]! +
    r.recv_time_us[s]! +
    r.dec0w[2 * s]! +
    r.dec0w[2 * s + 1]! +
    r.dec1w[2 * s]! +
    r.flags[s]!;
}

export const suite: BenchSuite = {
  title: "ring",
  cases: [
    {
      name: "ring push+pop trade row",
      ops: OPS,
      setup: () => {
        const ring = new Ring(CAPACITY);
        const r = ring.rows;
        return (i) => {
          const w = ring.claim();
          r.kind[w] = Table.trades;
          r.symbol_id[w] = i & 7;
          r.id[w] = i;
          r.trade_time_us[w] = T0_US + i;
          r.event_time_us[w] = T0_US + i + 1;
          r.recv_time_us[w] = T0_US + i + 2;
          // Decimals through the uint32 word views: no BigInt allocated (see model/row.ts).
          r.dec0w[2 * w] = 6_543_210_000 + (i & 1023);
          r.dec0w[2 * w + 1] = 1523;
          r.dec1w[2 * w] = 1_000_000 + (i & 255);
          r.dec1w[2 * w + 1] = 0;
          r.flags[w] = i & FLAG_BUYER_MAKER;
          ring.commit();
          const s = ring.readIndex(0);
          sink +=
            r.kind[s]! +
            r.symbol_id[s]! +
            r.id[s]! +
            r.trade_time_us[s]! +
            r.event_time_us[s]! +
            r.recv_time_us[s]! +
            r.dec0w[2 * s]! +
            r.dec0w[2 * s + 1]! +
            r.dec1w[2 * s]! +
            r.flags[s]!;
          ring.release(1);
        };
      },
    },
    {
      name: "array push/shift row object",
      ops: OPS,
      setup: () => {
        const q: TradeObj[] = [];
        return (i) => {
          q.push(tradeObj(i));
          sink += readObj(q.shift()!);
        };
      },
    },
    {
      name: "preallocated object ring push+pop",
      ops: OPS,
      setup: () => {
        // The "no new objects" variant: mutate preallocated row objects in a masked array.
        const slots: TradeObj[] = Array.from({ length: CAPACITY }, (_, i) => tradeObj(i));
        const mask = CAPACITY - 1;
        let head = 0;
        let tail = 0;
        return (i) => {
          const o = slots[head & mask]!;
          o.symbol_id = i & 7;
          o.id = i;
          o.trade_time_us = T0_US + i;
          o.event_time_us = T0_US + i + 1;
          o.recv_time_us = T0_US + i + 2;
          o.price = PRICE;
          o.quantity = QTY;
          o.flags = i & FLAG_BUYER_MAKER;
          head = (head + 1) | 0;
          sink += readObj(slots[tail & mask]!);
          tail = (tail + 1) | 0;
        };
      },
    },
    {
      name: "ring claim+commit 1024 rows",
      ops: BATCH_OPS,
      setup: () => {
        const ring = new Ring(CAPACITY);
        return (i) => {
          produceBatch(ring, i);
          ring.release(BATCH);
        };
      },
    },
    {
      name: "ring claim+commit+drain 1024 rows",
      ops: BATCH_OPS,
      setup: () => {
        const ring = new Ring(CAPACITY);
        return (i) => {
          produceBatch(ring, i);
          ring.drain(BATCH, readRow);
        };
      },
    },
    {
      name: "ring claim+commit+readIndex 1024 rows",
      ops: BATCH_OPS,
      setup: () => {
        const ring = new Ring(CAPACITY);
        return (i) => {
          produceBatch(ring, i);
          const r = ring.rows;
          const n = ring.available();
          for (let k = 0; k < n; k++) {
            const s = ring.readIndex(k);
            sink +=
              r.kind[s]! +
              r.symbol_id[s]! +
              r.id[s]! +
              r.trade_time_us[s]! +
              r.event_time_us[s]! +
              r.recv_time_us[s]! +
              r.dec0w[2 * s]! +
              r.dec0w[2 * s + 1]! +
              r.dec1w[2 * s]! +
              r.flags[s]!;
          }
          ring.release(n);
        };
      },
    },
    {
      name: "array push+shift 1024 row objects",
      ops: BATCH_OPS,
      setup: () => {
        const q: TradeObj[] = [];
        return (i) => {
          for (let k = 0; k < BATCH; k++) q.push(tradeObj(i + k));
          for (let k = 0; k < BATCH; k++) sink += readObj(q.shift()!);
        };
      },
    },
  ],
  ratios: [
    { subject: "ring push+pop trade row", baseline: "array push/shift row object" },
    { subject: "ring push+pop trade row", baseline: "preallocated object ring push+pop" },
    { subject: "ring claim+commit+drain 1024 rows", baseline: "array push+shift 1024 row objects" },
    { subject: "ring claim+commit+readIndex 1024 rows", baseline: "array push+shift 1024 row objects" },
  ],
};

/** For a run that wants proof the reads happened. */
export function benchSink(): number {
  return sink;
}
