/**
 * encodeRecord's CRC comes from the frame string (Bun.hash.crc32) while the reader checks the
 * bytes utf8Write put on disk: the two must agree for every string a frame can be, or a record
 * would read back as damage and be dropped at replay. encodeRecordBytes (a frame's UTF-8 bytes
 * from the socket) must write the very same record.
 */
import { expect, test } from "bun:test";
import { crc32, encodeRecord, encodeRecordBytes, RECORD_LEN_BYTES, type Utf8Buffer } from "./format.ts";

/** Strings over the whole UTF-16 range: ASCII, Latin-1, BMP, surrogate pairs and lone halves. */
function frames(): string[] {
  const out = [
    "",
    "a",
    '{"stream":"btcusdt@trade","data":{"e":"trade","p":"43000.12"}}',
    "é€😀",
    "\ud800",
    "x\udc00y",
  ];
  let seed = 12345;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    return seed;
  };
  const ranges = [0x7f, 0xff, 0xd7ff, 0xffff];
  for (let i = 0; i < 400; i++) {
    const top = ranges[i % ranges.length]!;
    const units = Array.from({ length: 1 + (next() % 700) }, () => next() % (top + 1));
    out.push(String.fromCharCode(...units));
  }
  return out;
}

test("a record's stored CRC is the CRC of its body bytes on disk, for any string", () => {
  const buf = Buffer.allocUnsafeSlow(64 * 1024) as Utf8Buffer;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let checked = 0;
  for (const [i, frame] of frames().entries()) {
    const off = (i * 7) % 64; // unaligned starts too
    const end = encodeRecord(buf, dv, off, frame, 1_700_000_000_000_000 + i, i % 3, i + 1);
    expect(end - off - RECORD_LEN_BYTES).toBe(dv.getUint32(off, true));
    expect(dv.getUint32(off + 4, true)).toBe(crc32(buf, off + RECORD_LEN_BYTES, end));
    checked++;
  }
  expect(checked).toBe(406);
});

test("a record from the frame's bytes equals the record from its string, CRC included", () => {
  const a = Buffer.alloc(64 * 1024) as Utf8Buffer;
  const b = Buffer.alloc(64 * 1024);
  const dvA = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const dvB = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let same = 0;
  for (const [i, frame] of frames().entries()) {
    const utf8 = Buffer.from(frame, "utf8");
    const chunk = Buffer.concat([Buffer.from("head"), utf8, Buffer.from("tail")]); // a frame mid-chunk
    const off = (i * 5) % 64;
    const endA = encodeRecord(a, dvA, off, frame, 1_700_000_000_000_000 + i, i % 3, i + 1);
    const endB = encodeRecordBytes(
      b,
      dvB,
      off,
      chunk,
      4,
      4 + utf8.length,
      1_700_000_000_000_000 + i,
      i % 3,
      i + 1,
    );
    expect(endB).toBe(endA);
    expect(b.subarray(off, endB).equals(a.subarray(off, endA))).toBe(true);
    same++;
  }
  expect(same).toBe(406);
});
