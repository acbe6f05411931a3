/**
 * K2 reads back its own ids and times without a BigInt per value. hyparquet decodes each INT64
 * DELTA_BINARY_PACKED value through 4–7 BigInt operations, each a heap cell (by that count ~30 MB
 * of short-lived cells per 50k-row trade merge in the writer worker, whose heap rose and fell with
 * the compaction passes). K2 writes these columns itself (pages.ts: integers in [0, 2^53),
 * version 2 data pages), so it decodes them itself, into float64, the batch's own representation:
 * native-bench/merge-read.ts reads a 50k-row file 2.7–3.0× faster than hyparquet alone.
 * A chunk of any other shape (dictionary, version 1 page, nulls, another codec) or holding a value
 * outside the exact-double range is left out, and the caller reads it with hyparquet, which
 * handles every valid file. Format: https://parquet.apache.org/docs/file-format/data-pages/encodings/
 */
// Deep import: the package exports ./src/*.js; the page header is thrift, parsed as hyparquet does.

import type { ColumnMetaData, FileMetaData } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";

/** A byte cursor over a page: LEB128 varints as exact doubles. */
class Cursor {
  constructor(
    readonly b: Uint8Array,
    public p: number,
  ) {}

  /** NaN past the end or over 53 bits: the caller gives the chunk to hyparquet. */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const x = this.b[this.p++];
      if (x === undefined) return Number.NaN;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return Number.isSafeInteger(v) ? v : Number.NaN;
      mul *= 128;
    }
    return Number.NaN;
  }

  /**
   * A zig-zag varint. The sign bit is taken first and the magnitude summed without it, so a value
   * near 2^53 (zig-zagged: near 2^54) is still exact. NaN past the end or outside ±(2^53 - 1).
   */
  zigzag(): number {
    const first = this.b[this.p++];
    if (first === undefined) return Number.NaN;
    let mag = (first & 0x7f) >>> 1;
    let more = first >= 0x80;
    let mul = 64;
    for (let i = 1; more; i++) {
      const x = this.b[this.p++];
      if (x === undefined || i > 8) return Number.NaN;
      mag += (x & 0x7f) * mul;
      mul *= 128;
      more = x >= 0x80;
    }
    // Each part is exact; a sum past 2^53 rounds to ≥ 2^53 and is refused here.
    if (!Number.isSafeInteger(mag)) return Number.NaN;
    return (first & 1) === 1 ? -mag - 1 : mag;
  }
}

/** `w` (≤ 53) bits, least significant first, from bit `bit` of `b`; NaN past the end. */
function readBits(b: Uint8Array, bit: number, w: number): number {
  let v = 0;
  let mul = 1;
  let got = 0;
  while (got < w) {
    const byte = b[Math.floor(bit / 8)];
    if (byte === undefined) return Number.NaN;
    const off = bit % 8;
    const take = Math.min(8 - off, w - got);
    v += ((byte >> off) & ((1 << take) - 1)) * mul;
    mul *= 1 << take;
    got += take;
    bit += take;
  }
  return v;
}

/**
 * DELTA_BINARY_PACKED values of one page into `out[at..at+count)`. False when the page is not
 * what K2 writes or a value (or a step towards it) leaves [-2^53, 2^53]: a rounded double would
 * be wrong silently, so the whole chunk goes to hyparquet instead.
 */
export function unpackDeltaF64(page: Uint8Array, count: number, out: Float64Array, at: number): boolean {
  const c = new Cursor(page, 0);
  const block = c.varint();
  const minis = c.varint();
  const total = c.varint();
  if (!(block > 0 && minis > 0 && block % minis === 0 && (block / minis) % 8 === 0) || total !== count)
    return false;
  const perMini = block / minis;
  let value = c.zigzag();
  if (count === 0) return true;
  if (!Number.isSafeInteger(value)) return false;
  out[at] = value;
  let k = 1;
  while (k < count) {
    const minDelta = c.zigzag();
    if (!Number.isSafeInteger(minDelta)) return false;
    const widthsAt = c.p;
    c.p += minis;
    for (let m = 0; m < minis && k < count; m++) {
      const w = page[widthsAt + m];
      if (w === undefined || w > 53) return false;
      let bit = c.p * 8;
      const n = Math.min(perMini, count - k);
      for (let i = 0; i < n; i++) {
        // Two steps, each checked: a result past 2^53 rounds to ≥ 2^53 and fails the check.
        const base = value + minDelta;
        if (!Number.isSafeInteger(base)) return false;
        value = w === 0 ? base : base + readBits(page, bit, w);
        if (!Number.isSafeInteger(value)) return false;
        bit += w;
        out[at + k++] = value;
      }
      c.p += (perMini * w) / 8;
    }
  }
  return true;
}

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

/** One column chunk's pages into `out[at..)`; false when any page is not K2's shape. */
function readChunk(
  bytes: Uint8Array,
  meta: ColumnMetaData,
  rows: number,
  out: Float64Array,
  at: number,
  zstd: Decompress,
): boolean {
  if (meta.type !== "INT64" || meta.dictionary_page_offset !== undefined) return false;
  if (meta.codec !== "ZSTD" && meta.codec !== "UNCOMPRESSED") return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: Number(meta.data_page_offset) };
  const end = reader.offset + Number(meta.total_compressed_size);
  let done = 0;
  while (done < rows) {
    if (reader.offset >= end) return false;
    const h = parquetHeader(reader);
    const v2 = h.data_page_header_v2;
    if (h.type !== "DATA_PAGE_V2" || v2 === undefined || v2.encoding !== "DELTA_BINARY_PACKED") return false;
    if (
      v2.num_nulls !== 0 ||
      v2.definition_levels_byte_length !== 0 ||
      v2.repetition_levels_byte_length !== 0
    )
      return false;
    const body = bytes.subarray(reader.offset, reader.offset + h.compressed_page_size);
    reader.offset += h.compressed_page_size;
    const page =
      meta.codec === "ZSTD" && v2.is_compressed !== false && h.uncompressed_page_size > 0
        ? zstd(body, h.uncompressed_page_size)
        : body;
    if (done + v2.num_values > rows || !unpackDeltaF64(page, v2.num_values, out, at + done)) return false;
    done += v2.num_values;
  }
  return true;
}

/**
 * The INT64 DELTA_BINARY_PACKED columns of a whole file (every row group), by name, as float64.
 * Columns absent from the result are for hyparquet to read.
 */
export function deltaColumnsF64(
  bytes: Uint8Array,
  md: FileMetaData,
  numRows: number,
  zstd: Decompress,
): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  if (md.row_groups.reduce((n, rg) => n + Number(rg.num_rows), 0) !== numRows) return out;
  // Candidates: INT64 columns delta-encoded in every row group, in this file.
  const delta = (rg: FileMetaData["row_groups"][number]) =>
    new Set(
      rg.columns
        .filter((cc) => cc.file_path === undefined && cc.meta_data?.type === "INT64")
        .filter((cc) => cc.meta_data!.encodings.includes("DELTA_BINARY_PACKED"))
        .map((cc) => cc.meta_data!.path_in_schema.join(".")),
    );
  const names = md.row_groups.length > 0 ? delta(md.row_groups[0]!) : new Set<string>();
  for (const rg of md.row_groups.slice(1)) {
    const here = delta(rg);
    for (const n of names) if (!here.has(n)) names.delete(n);
  }
  for (const n of names) out.set(n, new Float64Array(numRows));
  let at = 0;
  for (const rg of md.row_groups) {
    const rows = Number(rg.num_rows);
    for (const cc of rg.columns) {
      const name = cc.meta_data?.path_in_schema.join(".");
      const col = name === undefined ? undefined : out.get(name);
      if (col !== undefined && !readChunk(bytes, cc.meta_data!, rows, col, at, zstd)) out.delete(name!);
    }
    at += rows;
  }
  return out;
}
