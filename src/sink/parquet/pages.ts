/**
 * Page payload encoders for the few shapes K2 stores, written against typed arrays with no
 * BigInt per value: DELTA_BINARY_PACKED for ids and times (float64 integers < 2^53), PLAIN for
 * int64 decimals (a byte copy), and RLE/bit-packed runs for booleans and dictionary indexes.
 * hyparquet-writer's general encoders convert every INT64 through BigInt; profiling 100k trade
 * rows put ~60 % of the encode there (native-bench/parquet-sink.ts has the numbers).
 * Formats: https://parquet.apache.org/docs/file-format/data-pages/encodings/
 */

/** A growable byte buffer; `bytes()` is a view, valid until the next write. */
export class Bytes {
  buf: Uint8Array;
  n = 0;
  constructor(initial = 1 << 16) {
    this.buf = new Uint8Array(initial);
  }
  reset(): void {
    this.n = 0;
  }
  ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + extra));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.n++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.n++] = v & 0xff;
    b[this.n++] = (v >>> 8) & 0xff;
    b[this.n++] = (v >>> 16) & 0xff;
    b[this.n++] = (v >>> 24) & 0xff;
  }
  /** Unsigned LEB128 of a non-negative integer ≤ 2^53 (exact in a double). */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 0x80) + 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.n++] = v;
  }
  /** Zig-zag + LEB128 of any int64 (BigInt: called once per 128 values, not per value). */
  zigzag(v: number): void {
    const b = BigInt(v);
    let z = b < 0n ? -b * 2n - 1n : b * 2n;
    this.ensure(11);
    while (z >= 0x80n) {
      this.buf[this.n++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.n++] = Number(z);
  }
  append(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.n);
    this.n += src.length;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

const BLOCK = 128;
const MINIBLOCKS = 4;
const PER_MINI = BLOCK / MINIBLOCKS;
const TWO_32 = 4_294_967_296;

/** Thrown when a delta does not fit the exact-double path; the caller falls back. */
export class DeltaRangeError extends Error {}

const deltas = new Float64Array(BLOCK);

/**
 * DELTA_BINARY_PACKED (block 128, 4 miniblocks of 32) of `v[0..n)`, integers in [0, 2^53).
 * Adjusted deltas must stay below 2^53 to be exact in a double; a block whose deltas span
 * more throws DeltaRangeError (ids and times rise steadily; only crafted data gets there).
 */
export function deltaBinaryPacked(out: Bytes, v: Float64Array, n: number): void {
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(n);
  if (n === 0) {
    out.zigzag(0);
    return;
  }
  out.zigzag(v[0]!);
  for (let start = 1; start < n; start += BLOCK) {
    const count = Math.min(BLOCK, n - start);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const d = v[start + i]! - v[start + i - 1]!;
      deltas[i] = d;
      if (d < min) min = d;
    }
    out.zigzag(min);
    const widthsAt = out.n;
    out.ensure(MINIBLOCKS);
    out.n += MINIBLOCKS;
    for (let m = 0; m < MINIBLOCKS; m++) {
      const a = m * PER_MINI;
      // The last block's unused miniblocks still get a width byte (0) and no data.
      if (a >= count) {
        out.buf[widthsAt + m] = 0;
        continue;
      }
      const b = Math.min(a + PER_MINI, count);
      let max = 0;
      for (let i = a; i < b; i++) {
        const x = deltas[i]! - min;
        deltas[i] = x;
        if (x > max) max = x;
      }
      if (max > Number.MAX_SAFE_INTEGER) throw new DeltaRangeError("delta span over 2^53");
      const width =
        max === 0
          ? 0
          : max < TWO_32
            ? 32 - Math.clz32(max)
            : 32 + (32 - Math.clz32(Math.floor(max / TWO_32)));
      out.buf[widthsAt + m] = width;
      if (width === 0) continue;
      // A miniblock is always 32 values wide: pad the tail with zeros.
      for (let i = b; i < a + PER_MINI; i++) deltas[i] = 0;
      packMiniblock(out, deltas, a, width);
    }
  }
}

/** 32 values of `width` bits, least significant bit first; exactly 4 × width bytes. */
function packMiniblock(out: Bytes, src: Float64Array, at: number, width: number): void {
  out.ensure(4 * width);
  const buf = out.buf;
  let n = out.n;
  if (width <= 24) {
    // acc holds < 8 + 24 bits: 32-bit integer ops are exact.
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < PER_MINI; i++) {
      acc |= src[at + i]! << bits;
      bits += width;
      while (bits >= 8) {
        buf[n++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  } else {
    // Wider values: a double accumulator (< 8 + 53 bits would overflow 2^53, so flush the
    // low 32 bits of each value first, then the high part).
    let acc = 0;
    let bits = 0;
    const push = (x: number, w: number) => {
      acc += x * 2 ** bits;
      bits += w;
      while (bits >= 8) {
        buf[n++] = acc % 256;
        acc = Math.floor(acc / 256);
        bits -= 8;
      }
    };
    for (let i = 0; i < PER_MINI; i++) {
      const x = src[at + i]!;
      if (width <= 32) push(x, width);
      else {
        const hi = Math.floor(x / TWO_32);
        push(x - hi * TWO_32, 32);
        push(hi, width - 32);
      }
    }
  }
  out.n = n;
}

/**
 * RLE / bit-packed hybrid of small non-negative ints `v[0..n)` at `width` bits (≤ 8): runs of
 * 8+ equal values become RLE runs, the rest bit-packed groups of 8. Returns bytes written.
 */
export function rleHybrid(out: Bytes, v: Uint8Array, n: number, width: number): number {
  const start = out.n;
  let i = 0;
  let groupStart = -1;
  let groups = 0;
  const flush = () => {
    if (groups === 0) return;
    out.varint((groups << 1) | 1);
    packGroups(out, v, n, groupStart, groups, width);
    groups = 0;
  };
  while (i < n) {
    const x = v[i]!;
    let run = 1;
    while (i + run < n && v[i + run] === x) run++;
    if (run >= 8) {
      flush();
      out.varint(run * 2);
      if (width > 0) out.u8(x);
      i += run;
    } else {
      if (groups === 0) groupStart = i;
      groups++;
      i += 8;
    }
  }
  flush();
  return out.n - start;
}

function packGroups(out: Bytes, v: Uint8Array, n: number, at: number, groups: number, width: number): void {
  if (width === 0) return;
  out.ensure(groups * width);
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < groups * 8; i++) {
    const k = at + i;
    acc |= (k < n ? v[k]! : 0) << bits;
    bits += width;
    while (bits >= 8) {
      out.buf[out.n++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
}
