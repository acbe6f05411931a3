/**
 * The on-disk WAL format, shared by writer and reader. All integers little-endian.
 *
 * A segment is `<first seq, 20 digits>.wal`: an 8-byte magic, then records back to back.
 *
 * | offset | size | field                                              |
 * |--------|------|----------------------------------------------------|
 * | 0      | 4    | body_len (u32) = 17 + payload bytes                |
 * | 4      | 4    | crc32 (IEEE, as zlib) of the body bytes            |
 * | 8      | 8    | seq (f64, an integer, +1 per record across segments) |
 * | 16     | 8    | recv_time_us (f64)                                 |
 * | 24     | 1    | tag (u8, see WalTag)                               |
 * | 25     | n    | payload: the frame as UTF-8                        |
 *
 * The file name carries the segment's first seq, so a segment's highest seq is the next
 * segment's first seq − 1 without reading it (deleteUpTo relies on this).
 */
export const SEGMENT_MAGIC = "K2WAL001";
export const SEGMENT_HEADER_BYTES = 8;
export const RECORD_LEN_BYTES = 8; // body_len + crc32
export const BODY_FIXED_BYTES = 17; // seq + recv_time_us + tag
export const RECORD_HEADER_BYTES = RECORD_LEN_BYTES + BODY_FIXED_BYTES;
/** A record's payload is at most this big; a larger body_len on disk can only be damage. */
export const MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;

/** What produced a frame; replay routes on it. Values are stored: never renumber. */
export const WalTag = {
  /** A WebSocket text frame exactly as received. */
  ws_text: 0,
  /** A row repaired from REST, re-encoded as the WebSocket frame Binance would have sent. */
  rest_synthetic: 1,
  /** Order-book rows, not a frame: base64 of ingest/book-rows.ts's layout (BOOK_ROWS_TAG). */
  book_rows: 2,
} as const;

const SEGMENT_RE = /^(\d{20})\.wal$/;

export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, "0")}.wal`;
}

/** First seq of a segment file name, or null when the name is not a segment's. */
export function parseSegmentName(name: string): number | null {
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : null;
}

export const MAGIC_BYTES: Uint8Array = new TextEncoder().encode(SEGMENT_MAGIC);

export function hasMagic(bytes: Uint8Array): boolean {
  if (bytes.length < SEGMENT_HEADER_BYTES) return false;
  for (let i = 0; i < SEGMENT_HEADER_BYTES; i++) if (bytes[i] !== MAGIC_BYTES[i]) return false;
  return true;
}

// CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), the same value as zlib and Bun.hash.crc32.
// Slice-by-8 tables: 8 lookups per 8 bytes instead of 8 dependent ones.
const TABLES = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLES[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLES[n]!;
  for (let k = 1; k < 8; k++) {
    c = TABLES[c & 255]! ^ (c >>> 8);
    TABLES[k * 256 + n] = c;
  }
}

/**
 * crc32() below (the reader's checks, the WAL Worker's sealRecords): bodies up to this size are
 * checksummed in JS, bigger ones by Bun.hash.crc32 on a subarray. The native call needs a view
 * (one allocation, ~30 ns) but is near-constant in size, while the table costs ~0.55 ns/byte:
 * native wins past ~130 bytes; this keeps those readers allocation-free for typical frames
 * (native-bench/wal.bench.ts, "crc32 …" cases). The writer's own records do not use it: they
 * hash the frame string (encodeRecord) or a view of the copied bytes (encodeRecordBytes).
 */
export const CRC_NATIVE_MIN_BYTES = 512;

/** A Buffer with Node's internal utf8Write, which Bun implements (checked at load). */
export type Utf8Buffer = Buffer & { utf8Write?: (s: string, offset: number) => number };
// Buffer#utf8Write returns a number and allocates nothing: ~20 ns for a 170-char frame vs 40–70 ns
// for buf.write and 45–80 ns for TextEncoder.encodeInto, which also needs a subarray and returns
// a {read, written} object (native-bench/wal.bench.ts, "utf8 …" cases).
const HAS_UTF8_WRITE = typeof (Buffer.prototype as Utf8Buffer).utf8Write === "function";

/**
 * Encode one record at `off` of `buf` (the caller checked the space: header + 3 bytes per
 * UTF-16 unit, or the exact byte length); returns the offset after it. Allocation-free.
 */
export function encodeRecord(
  buf: Utf8Buffer,
  dv: DataView,
  off: number,
  frame: string,
  recvTimeUs: number,
  tag: number,
  seq: number,
): number {
  const end = encodeUnsealed(buf, dv, off, frame, recvTimeUs, tag, seq);
  // The body's CRC in two steps, each cheap: the 17 fixed bytes by the table, then the payload by
  // Bun.hash.crc32 on the frame string itself, which hashes the UTF-8 bytes utf8Write has just
  // written (lone surrogates as U+FFFD alike: format.test.ts) with no view to allocate. The table
  // over a whole frame was 17 % of K2's main thread at max rate (native-bench/README.md).
  const head = crc32Table(buf, off + RECORD_LEN_BYTES, off + RECORD_HEADER_BYTES);
  dv.setUint32(off + 4, Bun.hash.crc32(frame, head), true);
  return end;
}

/**
 * encodeRecord without the CRC: the crc32 field is left as it was, for sealRecords to fill in
 * on another thread (worker-writer.ts). Same contract otherwise.
 */
export function encodeUnsealed(
  buf: Utf8Buffer,
  dv: DataView,
  off: number,
  frame: string,
  recvTimeUs: number,
  tag: number,
  seq: number,
): number {
  const p = off + RECORD_HEADER_BYTES;
  const n = HAS_UTF8_WRITE ? buf.utf8Write!(frame, p) : buf.write(frame, p, "utf8");
  return writeHead(dv, buf, off, n, recvTimeUs, tag, seq);
}

/**
 * encodeRecord for a payload that is already UTF-8 bytes, `src[start, end)` (a socket's frame):
 * one native copy, no string. The CRC needs a view (one small object), where the string form
 * hashes the string itself; one native call over the whole body, header included, costs less
 * than the JS table for the 17 header bytes plus a native call for the payload (wal.bench.ts
 * "wal appendBytes": 114.7 → 93.6 ns per frame here, 2026-12-06).
 */
export function encodeRecordBytes(
  buf: Buffer,
  dv: DataView,
  off: number,
  src: Buffer,
  start: number,
  end: number,
  recvTimeUs: number,
  tag: number,
  seq: number,
): number {
  const after = encodeUnsealedBytes(buf, dv, off, src, start, end, recvTimeUs, tag, seq);
  dv.setUint32(off + 4, Bun.hash.crc32(buf.subarray(off + RECORD_LEN_BYTES, after)), true);
  return after;
}

/** encodeUnsealed for a payload that is already UTF-8 bytes (encodeRecordBytes). */
export function encodeUnsealedBytes(
  buf: Buffer,
  dv: DataView,
  off: number,
  src: Buffer,
  start: number,
  end: number,
  recvTimeUs: number,
  tag: number,
  seq: number,
): number {
  src.copy(buf, off + RECORD_HEADER_BYTES, start, end);
  return writeHead(dv, buf, off, end - start, recvTimeUs, tag, seq);
}

/** The record's fixed fields (all but the CRC) for a payload of `n` bytes; the offset after it. */
function writeHead(
  dv: DataView,
  buf: Uint8Array,
  off: number,
  n: number,
  recv: number,
  tag: number,
  seq: number,
): number {
  const bodyLen = BODY_FIXED_BYTES + n;
  dv.setUint32(off, bodyLen, true);
  dv.setFloat64(off + 8, seq, true);
  dv.setFloat64(off + 16, recv, true);
  buf[off + 24] = tag;
  return off + 8 + bodyLen;
}

/**
 * Fill the crc32 field of every record in bytes[start, end), which holds whole records; returns
 * the last one's seq (-1 when the range is empty).
 */
export function sealRecords(buf: Uint8Array, dv: DataView, start: number, end: number): number {
  let seq = -1;
  for (let off = start; off < end; ) {
    const bodyEnd = off + RECORD_LEN_BYTES + dv.getUint32(off, true);
    dv.setUint32(off + 4, crc32(buf, off + 8, bodyEnd), true);
    seq = dv.getFloat64(off + 8, true);
    off = bodyEnd;
  }
  return seq;
}

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= CRC_NATIVE_MIN_BYTES) return Bun.hash.crc32(bytes.subarray(start, end));
  return crc32Table(bytes, start, end);
}

/** The allocation-free table CRC (exported for the bench and the cross-check test). */
export function crc32Table(b: Uint8Array, start: number, end: number): number {
  const T = TABLES;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) ^ c;
    const d = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
    c =
      T[1792 + (a & 255)]! ^
      T[1536 + ((a >>> 8) & 255)]! ^
      T[1280 + ((a >>> 16) & 255)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + (d & 255)]! ^
      T[512 + ((d >>> 8) & 255)]! ^
      T[256 + ((d >>> 16) & 255)]! ^
      T[d >>> 24]!;
  }
  for (; i < end; i++) c = T[(c ^ b[i]!) & 255]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
