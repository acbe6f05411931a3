/**
 * Compaction reads ids and times back with K2's own delta decoder (read-delta.ts) and the rest
 * with hyparquet. What it reads must equal what hyparquet alone reads, value for value, for files
 * from either writer; what it cannot decode exactly it must leave to hyparquet, never round.
 */
import { describe, expect, test } from "bun:test";
import { ByteWriter } from "hyparquet-writer";
import { deltaBinaryPack } from "hyparquet-writer/src/delta.js";
import { ID_TIME_COLUMNS, type TableName } from "../../src/model/index.ts";
import { decodeForMerge, decodeParquet, encodeParquet, TABLE_SCHEMAS } from "../../src/sink/parquet/index.ts";
import { unpackDeltaF64 } from "../../src/sink/parquet/read-delta.ts";
import { slotOf } from "../../src/sink/parquet/schema.ts";
import { CASES, encodeInputOf, lcg } from "./parquet.case.ts";

/** A case's rows as encodeParquet's input, ids replaced by `ids` when given. */
function inputOf(c: (typeof CASES)[number], ids?: (i: number) => number) {
  const { rows, n } = c.build(0);
  if (ids) for (let i = 0; i < n; i++) rows.id[i] = ids(i);
  return encodeInputOf(c, rows, n);
}

/** Columns K2's writer delta-encodes: ids and times (pages.ts). */
const idTimeColumns = (t: TableName) =>
  TABLE_SCHEMAS[t].columns.filter((c) => (ID_TIME_COLUMNS as readonly string[]).includes(slotOf(t, c.name)))
    .length;

/** decodeForMerge's columns equal hyparquet's; returns how many came from K2's decoder. */
async function expectSameAsHyparquet(bytes: Uint8Array): Promise<number> {
  const ref = await decodeParquet("x.parquet", bytes);
  const got = await decodeForMerge("x.parquet", bytes);
  expect(Object.keys(got.columns).sort()).toEqual(Object.keys(ref.columns).sort());
  let own = 0;
  for (const [name, col] of Object.entries(ref.columns)) {
    const mine = got.columns[name]!;
    if (mine instanceof Float64Array) {
      own++;
      expect({ name, values: Array.from(mine, BigInt) }).toEqual({
        name,
        values: Array.from(col as BigInt64Array),
      });
    } else
      expect({ name, values: Array.from(mine as ArrayLike<unknown>) }).toEqual({
        name,
        values: Array.from(col as ArrayLike<unknown>),
      });
  }
  return own;
}

describe("decodeForMerge", () => {
  for (const c of CASES)
    test(`${c.name}: equal to hyparquet for both writers and small row groups`, async () => {
      const input = inputOf(c);
      for (const rowGroupRows of [65_536, 333]) {
        // K2's own writer: every id and time column is decoded by K2 (none left to hyparquet).
        const own = await expectSameAsHyparquet(encodeParquet(input, { fast: true, rowGroupRows }).bytes);
        expect(own).toBe(idTimeColumns(c.table));
        expect(own).toBeGreaterThan(0);
        // hyparquet-writer's file: whatever K2 decodes must still be exact.
        await expectSameAsHyparquet(encodeParquet(input, { fast: false, rowGroupRows }).bytes);
      }
    });

  test("ids whose deltas span more than 2^53 (the reference writer's file) are read exactly", async () => {
    const big = Number.MAX_SAFE_INTEGER;
    const input = inputOf(CASES[0]!, (i) => (i % 2 === 0 ? i : big - i));
    await expectSameAsHyparquet(encodeParquet(input).bytes);
  });
});

/** hyparquet-writer's DELTA_BINARY_PACKED page of `values` (any int64). */
function page(values: bigint[]): Uint8Array {
  const w = new ByteWriter();
  deltaBinaryPack(w, BigInt64Array.from(values), "INT64");
  return new Uint8Array(w.getBuffer());
}

describe("unpackDeltaF64", () => {
  test("exact for rising, falling, flat and negative runs, as the reference writer packs them", () => {
    const r = lcg(7);
    const runs: bigint[][] = [
      Array.from({ length: 1000 }, (_, i) => 4_200_000_000n + BigInt(i) * 3n), // steady ids
      Array.from({ length: 517 }, () => BigInt(Math.floor(r() * 2 ** 40)) - 2n ** 39n), // noise
      Array.from({ length: 300 }, () => 1_735_689_600_123_456n), // one value: width 0
      [0n, 1n, 2n ** 52n + 1n], // a 52-bit wide miniblock
      [2n ** 53n - 1n, 2n ** 53n - 2n, 0n], // first value near 2^53, zig-zagged past it
      [-5n, -3n, -100n],
      [7n],
    ];
    for (const values of runs) {
      const out = new Float64Array(values.length + 2);
      expect(unpackDeltaF64(page(values), values.length, out, 2)).toBe(true);
      expect(Array.from(out.subarray(2), BigInt)).toEqual(values);
    }
  });

  test("refuses (never rounds) values past 2^53, a truncated page and a wrong count", () => {
    const out = new Float64Array(8);
    expect(unpackDeltaF64(page([1n, 2n ** 53n + 1n, 3n]), 3, out, 0)).toBe(false);
    expect(unpackDeltaF64(page([-(2n ** 60n), 0n]), 2, out, 0)).toBe(false);
    // Deltas from -(2^53 - 1) to 2^53 - 1: 54-bit miniblocks, more than a double holds exactly.
    expect(unpackDeltaF64(page([2n ** 53n - 1n, 0n, 2n ** 53n - 1n]), 3, out, 0)).toBe(false);
    const p = page(Array.from({ length: 200 }, (_, i) => BigInt(i * i)));
    expect(unpackDeltaF64(p, 200, new Float64Array(200), 0)).toBe(true);
    expect(unpackDeltaF64(p.subarray(0, p.length >> 1), 200, new Float64Array(200), 0)).toBe(false);
    expect(unpackDeltaF64(page([1n, 2n, 3n]), 4, out, 0)).toBe(false);
  });
});
