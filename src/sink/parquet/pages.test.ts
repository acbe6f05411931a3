/**
 * Page encoders, decoded by hyparquet's own decoders (an independent reader): delta packing at
 * every bit width 0..53, ragged last blocks, and RLE/bit-packed runs.
 */
import { describe, expect, test } from "bun:test";
import { deltaBinaryUnpack } from "hyparquet/src/delta.js";
import { readRleBitPackedHybrid } from "hyparquet/src/encoding.js";
import { Bytes, DeltaRangeError, deltaBinaryPacked, rleHybrid } from "./pages.ts";

const reader = (b: Uint8Array) => ({ view: new DataView(b.buffer, b.byteOffset, b.byteLength), offset: 0 });

function roundTrip(values: number[]): bigint[] {
  const out = new Bytes(16);
  deltaBinaryPacked(out, Float64Array.from(values), values.length);
  const got = new BigInt64Array(values.length);
  deltaBinaryUnpack(reader(out.bytes()) as never, values.length, got);
  return Array.from(got);
}

let seed = 7;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4_294_967_296;
};

describe("DELTA_BINARY_PACKED", () => {
  test("every delta width from 0 to 53 bits, with ragged blocks", () => {
    for (let width = 0; width <= 52; width++) {
      for (const n of [1, 2, 33, 128, 129, 300]) {
        const span = 2 ** width;
        const values: number[] = [];
        let v = 2 ** 52; // mid-range so negative deltas stay ≥ 0
        for (let i = 0; i < n; i++) {
          values.push(v);
          v = Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, v + Math.floor((rnd() - 0.5) * span)));
        }
        expect(roundTrip(values)).toEqual(values.map(BigInt));
      }
    }
    // Full 53-bit swing: 0 → 2^53 - 1 → 0 spans 2^54 between deltas: refused, never wrong.
    expect(() => roundTrip([0, Number.MAX_SAFE_INTEGER, 0])).toThrow(DeltaRangeError);
    expect(roundTrip([0, Number.MAX_SAFE_INTEGER])).toEqual([0n, BigInt(Number.MAX_SAFE_INTEGER)]);
  });

  test("steady ids and times pack to a few bits per value", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => 3_000_000_000 + i);
    const out = new Bytes();
    deltaBinaryPacked(out, Float64Array.from(ids), ids.length);
    expect(out.n).toBeLessThan(ids.length / 10); // constant deltas: zero-width miniblocks
    expect(roundTrip(ids)).toEqual(ids.map(BigInt));
  });
});

describe("RLE / bit-packed hybrid", () => {
  test("runs, mixed groups and widths 0..8 decode to the input", () => {
    for (const width of [0, 1, 2, 3, 5, 8]) {
      for (const n of [1, 7, 8, 9, 100, 1000]) {
        const max = 2 ** width;
        const v = new Uint8Array(n);
        for (let i = 0; i < n; i++) v[i] = rnd() < 0.5 ? 0 : Math.floor(rnd() * max); // runs and noise
        const out = new Bytes(8);
        const len = rleHybrid(out, v, n, width);
        expect(len).toBe(out.n);
        const got = new Array<number>(n);
        readRleBitPackedHybrid(reader(out.bytes()) as never, width, got as never, len);
        expect(got).toEqual(Array.from(v));
      }
    }
  });
});
