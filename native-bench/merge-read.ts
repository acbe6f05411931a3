/**
 * Reading a file back for a merge: K2's own id/time decoder (decodeForMerge, read-delta.ts)
 * against hyparquet alone (decodeParquet), the same K2-written trade file, alternating, in one
 * run. Prints rows/s of each, the ratio, and the JS heap right after each decode (no forced GC:
 * what the garbage of one decode lifts the heap to; the writer worker's heap swung with it).
 *
 *   bun native-bench/merge-read.ts [--rows 50000] [--rounds 10]
 */
import { heapSize } from "bun:jsc";
import { parseArgs } from "node:util";
import { allocRowColumns, FLAG_BUYER_MAKER, Table } from "../src/model/index.ts";
import { buildBatch, decodeForMerge, decodeParquet, encodeParquet } from "../src/sink/parquet/index.ts";

const { values: args } = parseArgs({
  options: { rows: { type: "string", default: "50000" }, rounds: { type: "string", default: "10" } },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);

/** Trade-like rows on one day: ids +1, times +~200 µs, prices on a 0.01 tick. */
function file(n: number): Uint8Array {
  const r = allocRowColumns(n);
  const t0 = 19_675 * 86_400_000_000 + 3_600_000_000;
  for (let i = 0; i < n; i++) {
    r.kind[i] = Table.trades;
    r.symbol_id[i] = 0;
    r.id[i] = 3_000_000_000 + i;
    r.event_time_us[i] = t0 + i * 200 + (i % 7);
    r.trade_time_us[i] = r.event_time_us[i]! - 3;
    r.recv_time_us[i] = r.event_time_us[i]! + 150 + (i % 13);
    r.dec0[i] = 6_500_000_000_000n + BigInt((i * 7919) % 100_000) * 1_000_000n;
    r.dec1[i] = BigInt(1 + ((i * 104_729) % 5_000_000));
    r.flags[i] = i % 3 === 0 ? FLAG_BUYER_MAKER : 0;
  }
  const b = buildBatch(
    "trades",
    "BTCUSDT",
    0,
    r,
    Array.from({ length: n }, (_, i) => i),
  );
  return encodeParquet({
    table: "trades",
    exchange: b.exchange,
    symbol: "BTCUSDT",
    date: b.date,
    rows: n,
    columns: b.columns,
  }).bytes;
}

const bytes = file(ROWS);
const variants = {
  hyparquet: (b: Uint8Array) => decodeParquet("bench.parquet", b),
  k2: (b: Uint8Array) => decodeForMerge("bench.parquet", b),
} as const;
const stats = {
  hyparquet: { ms: [] as number[], heap: [] as number[] },
  k2: { ms: [] as number[], heap: [] as number[] },
};
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? (["hyparquet", "k2"] as const) : (["k2", "hyparquet"] as const)) {
    Bun.gc(true);
    const t = performance.now();
    await variants[name](bytes);
    stats[name].ms.push(performance.now() - t);
    stats[name].heap.push(heapSize() / 2 ** 20);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rate = (name: keyof typeof stats) => ROWS / (median(stats[name].ms) / 1000);
const out = {
  rows: ROWS,
  file_kb: Math.round(bytes.length / 1024),
  hyparquet_rows_per_s: Math.round(rate("hyparquet")),
  k2_rows_per_s: Math.round(rate("k2")),
  ratio_k2_over_hyparquet: Number((rate("k2") / rate("hyparquet")).toFixed(2)),
  heap_after_decode_mb_median: {
    hyparquet: Number(median(stats.hyparquet.heap).toFixed(1)),
    k2: Number(median(stats.k2.heap).toFixed(1)),
  },
};
console.log(JSON.stringify(out, null, 2));
