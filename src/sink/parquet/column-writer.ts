/**
 * K2's own column-chunk writer for its fixed schemas (model/tables.ts): every column REQUIRED,
 * one data page (v2) per column chunk, ZSTD per page. Values are encoded from the batch's typed
 * arrays by pages.ts (text and boolean columns derived from the flag byte: schema.ts FLAG_COLUMNS); the thrift page headers and the footer come from hyparquet-writer (the same code
 * that writes every other K2 file), so only the value encodings are ours.
 *
 * Why not hyparquet-writer end to end: it converts each INT64 through BigInt for range checks,
 * statistics and delta packing — ~60 % of the encode time for a trade batch. Here ids and times
 * stay float64 (exact integers < 2^53), decimals are copied as bytes, and min/max come from
 * 32-bit words. Equivalence is tested value for value against hyparquet-writer
 * (test/sink/parquet.conformance.test.ts; the order-book tables: test/sink/book-parquet.test.ts),
 * and files are read back by hyparquet and DuckDB.
 */
// Deep imports: the package exports ./src/*.js for exactly this kind of reuse.
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import type { TableName } from "../../model/index.ts";
import type { BatchColumns } from "./batch.ts";
import { Bytes, deltaBinaryPacked, rleHybrid } from "./pages.ts";
import { FLAG_COLUMNS, isFlagSlot, slotOf, TABLE_SCHEMAS } from "./schema.ts";

export interface ColumnFileInput {
  readonly table: TableName;
  readonly exchange: string;
  readonly symbol: string;
  readonly rows: number;
  readonly columns: BatchColumns;
  readonly kv: Record<string, string>;
  readonly createdBy: string;
  readonly rowGroupRows: number;
  readonly zstdLevel: number;
}

const MAGIC = 0x31524150; // "PAR1"

type Stat = bigint | string | boolean;
interface Chunk {
  meta_data: Record<string, unknown>;
  file_offset: bigint;
}

/** The output file: header magic, then column chunks, then the footer. */
class Out extends Bytes {
  // hyparquet-writer's Writer interface, as writePageHeader / writeMetadata use it.
  get offset(): number {
    return this.n;
  }
  appendUint8(v: number): void {
    this.u8(v);
  }
  appendUint32(v: number): void {
    this.u32(v);
  }
  appendBytes(b: Uint8Array): void {
    this.append(b);
  }
  /** Thrift varint of a 32-bit value, exactly as hyparquet-writer's ByteWriter writes it. */
  appendVarInt(v: number): void {
    for (;;) {
      if ((v & ~0x7f) === 0) {
        this.u8(v);
        return;
      }
      this.u8((v & 0x7f) | 0x80);
      v >>>= 7;
    }
  }
  appendVarBigInt(v: bigint): void {
    for (;;) {
      if ((v & ~0x7fn) === 0n) {
        this.u8(Number(v));
        return;
      }
      this.u8(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
  }
  appendZigZag(v: number | bigint): void {
    if (typeof v === "number") this.appendVarInt((v << 1) ^ (v >> 31));
    else this.appendVarBigInt((v << 1n) ^ (v >> 63n));
  }
  appendFloat64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.append(b);
  }
  appendInt32(v: number): void {
    this.u32(v >>> 0);
  }
  appendInt64(v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v, true);
    this.append(b);
  }
  finish(): void {}
}

export function writeColumnFile(input: ColumnFileInput): Uint8Array {
  const schema = TABLE_SCHEMAS[input.table];
  const out = new Out(Math.max(1 << 16, input.rows * 12));
  out.u32(MAGIC);
  const page = new Bytes(Math.min(input.rowGroupRows, input.rows) * 8 + 64);
  const small = new Uint8Array(Math.min(input.rowGroupRows, input.rows));
  const compress = (b: Uint8Array) => Bun.zstdCompressSync(b, { level: input.zstdLevel });
  const rowGroups: unknown[] = [];
  for (let g0 = 0; g0 < input.rows; g0 += input.rowGroupRows) {
    const n = Math.min(input.rowGroupRows, input.rows - g0);
    const groupStart = out.n;
    let uncompressedTotal = 0n;
    const chunks: Chunk[] = [];
    for (const col of schema.columns) {
      const slot = slotOf(input.table, col.name);
      const chunkStart = out.n;
      page.reset();
      let dictOffset: bigint | undefined;
      let uncompressed = 0;
      let encoding: string;
      let min: Stat;
      let max: Stat;
      let type = "INT64";
      const flag = isFlagSlot(slot) ? FLAG_COLUMNS[slot] : undefined;
      if (slot === "exchange" || slot === "symbol" || flag?.type === "string") {
        type = "BYTE_ARRAY";
        // A dictionary of at most three entries, in order of first appearance (as hyparquet-writer does).
        let dict: string[];
        if (flag) {
          const f = input.columns.flags;
          const at = [-1, -1, -1, -1];
          dict = [];
          for (let i = 0; i < n; i++) {
            const v = flag.index(f[g0 + i]!);
            let p = at[v]!;
            if (p < 0) {
              p = dict.length;
              at[v] = p;
              dict.push(flag.values[v] as string);
            }
            small[i] = p;
          }
        } else {
          dict = [slot === "exchange" ? input.exchange : input.symbol];
          small.fill(0, 0, n);
        }
        const width = dict.length <= 1 ? 0 : dict.length === 2 ? 1 : 2;
        dictOffset = BigInt(out.n);
        uncompressed += writeDictionary(out, dict, compress);
        page.u8(width);
        rleHybrid(page, small, n, width);
        encoding = "RLE_DICTIONARY";
        const sorted = [...dict].sort();
        min = sorted[0]!;
        max = sorted[sorted.length - 1]!;
      } else if (flag) {
        type = "BOOLEAN";
        const f = input.columns.flags;
        let any = 0;
        let all = 1;
        for (let i = 0; i < n; i++) {
          const b = flag.values[flag.index(f[g0 + i]!)] === true ? 1 : 0;
          small[i] = b;
          any |= b;
          all &= b;
        }
        // RLE for booleans carries its own 4-byte length prefix.
        const at = page.n;
        page.u32(0);
        const len = rleHybrid(page, small, n, 1);
        const save = page.n;
        page.n = at;
        page.u32(len);
        page.n = save;
        encoding = "RLE";
        min = all === 1;
        max = any === 1;
      } else if (slot === "dec0" || slot === "dec1" || slot === "dec2" || slot === "dec3") {
        const src = input.columns[slot];
        page.append(new Uint8Array(src.buffer, src.byteOffset + g0 * 8, n * 8));
        const [lo, hi] = minMaxInt64(src, g0, n);
        min = src[lo]!;
        max = src[hi]!;
        encoding = "PLAIN";
      } else {
        const src =
          input.columns[
            slot as "id" | "first_id" | "last_id" | "trade_time_us" | "event_time_us" | "recv_time_us"
          ];
        const view = g0 === 0 ? src : src.subarray(g0, g0 + n);
        deltaBinaryPacked(page, view, n);
        let lo = view[0]!;
        let hi = lo;
        for (let i = 1; i < n; i++) {
          const x = view[i]!;
          if (x < lo) lo = x;
          else if (x > hi) hi = x;
        }
        min = BigInt(lo);
        max = BigInt(hi);
        encoding = "DELTA_BINARY_PACKED";
      }
      const dataOffset = BigInt(out.n);
      uncompressed += writeDataPage(out, page.bytes(), n, encoding, compress);
      const encodings = dictOffset === undefined ? [encoding] : ["PLAIN", encoding];
      const encodingStats = [
        ...(dictOffset === undefined ? [] : [{ page_type: "DICTIONARY_PAGE", encoding: "PLAIN", count: 1 }]),
        { page_type: "DATA_PAGE_V2", encoding, count: 1 },
      ];
      chunks.push({
        meta_data: {
          type,
          encodings,
          path_in_schema: [col.name],
          codec: "ZSTD",
          num_values: BigInt(n),
          total_compressed_size: BigInt(out.n - chunkStart),
          total_uncompressed_size: BigInt(uncompressed),
          data_page_offset: dataOffset,
          dictionary_page_offset: dictOffset,
          statistics: { min_value: min, max_value: max, null_count: 0n },
          encoding_stats: encodingStats,
        },
        file_offset: BigInt(chunkStart),
      });
      uncompressedTotal += BigInt(uncompressed);
    }
    rowGroups.push({
      columns: chunks,
      total_byte_size: uncompressedTotal,
      num_rows: BigInt(n),
      total_compressed_size: BigInt(out.n - groupStart),
    });
  }
  writeMetadata(
    out as never,
    {
      version: 2,
      created_by: input.createdBy,
      schema: schema.annotated,
      num_rows: BigInt(input.rows),
      row_groups: rowGroups,
      key_value_metadata: Object.entries(input.kv).map(([key, value]) => ({ key, value })),
    } as never,
  );
  out.u32(MAGIC);
  return out.buf.slice(0, out.n);
}

/** Index of the min and max of a signed int64 column, compared by 32-bit words (no BigInt). */
function minMaxInt64(src: BigInt64Array, at: number, n: number): [number, number] {
  const lo = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const hi = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  let mn = at;
  let mx = at;
  for (let i = at + 1; i < at + n; i++) {
    const h = hi[2 * i + 1]!;
    const l = lo[2 * i]!;
    const hmn = hi[2 * mn + 1]!;
    if (h < hmn || (h === hmn && l < lo[2 * mn]!)) mn = i;
    const hmx = hi[2 * mx + 1]!;
    if (h > hmx || (h === hmx && l > lo[2 * mx]!)) mx = i;
  }
  return [mn, mx];
}

const utf8 = new TextEncoder();

/** PLAIN BYTE_ARRAY dictionary page; returns its uncompressed size with the header. */
function writeDictionary(out: Out, dict: readonly string[], compress: (b: Uint8Array) => Uint8Array): number {
  const body = new Bytes(64);
  for (const s of dict) {
    const b = utf8.encode(s);
    body.u32(b.length);
    body.append(b);
  }
  const raw = body.bytes();
  const packed = compress(raw);
  const h0 = out.n;
  writePageHeader(
    out as never,
    {
      type: "DICTIONARY_PAGE",
      uncompressed_page_size: raw.length,
      compressed_page_size: packed.length,
      dictionary_page_header: { num_values: dict.length, encoding: "PLAIN" },
    } as never,
  );
  const header = out.n - h0;
  out.append(packed);
  return header + raw.length;
}

/** One DATA_PAGE_V2 of a REQUIRED column (no level bytes); returns uncompressed size + header. */
function writeDataPage(
  out: Out,
  raw: Uint8Array,
  n: number,
  encoding: string,
  compress: (b: Uint8Array) => Uint8Array,
): number {
  const packed = compress(raw);
  const h0 = out.n;
  writePageHeader(
    out as never,
    {
      type: "DATA_PAGE_V2",
      uncompressed_page_size: raw.length,
      compressed_page_size: packed.length,
      data_page_header_v2: {
        num_values: n,
        num_nulls: 0,
        num_rows: n,
        encoding,
        definition_levels_byte_length: 0,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    } as never,
  );
  const header = out.n - h0;
  out.append(packed);
  return header + raw.length;
}
