/**
 * The simulator's zip64 writer for monthly archive files. A busy symbol's monthly CSV is over
 * 4 GiB, so Binance's monthly zips carry zip64 records; the simulator's months are small, but
 * writing every size and offset in zip64 form anyway (APPNOTE 4.3.9.2: "ZIP64 format MAY be
 * used regardless of the size of a file") makes a small file exercise the reader's whole zip64
 * path (src/archive/zip.ts) exactly as a big one would:
 *   local header    sizes 0xFFFFFFFF + zip64 extra field (zeros: flag bit 3, sizes follow)
 *   data            raw deflate, written block by block (fflate's synchronous Deflate)
 *   data descriptor signature, CRC-32, compressed and uncompressed size as 8 bytes each
 *   central dir     sizes and local header offset 0xFFFFFFFF + zip64 extra field with all three
 *   zip64 EOCD      entry count, directory size and offset (8 bytes each)
 *   zip64 locator   where the zip64 EOCD is
 *   EOCD            every field that has a zip64 counterpart set to 0xFFFF / 0xFFFFFFFF
 */
import { Deflate } from "fflate";

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** "Version needed to extract" for zip64 (APPNOTE 4.4.3.2). */
const VERSION_ZIP64 = 45;
const FLAG_DESCRIPTOR = 0x08;
const DEFLATED = 8;
/** 2020-01-01 00:00 as MS-DOS time and date: the same month always zips to the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;

class Bytes {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
}

/** A little-endian record built field by field. */
function record(fields: ReadonlyArray<[2 | 4 | 8, number]>): Uint8Array {
  const len = fields.reduce((n, [w]) => n + w, 0);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [w, v] of fields) {
    if (w === 2) dv.setUint16(at, v, true);
    else if (w === 4) dv.setUint32(at, v >>> 0, true);
    else dv.setBigUint64(at, BigInt(v), true);
    at += w;
  }
  return out;
}

/** One-file zip64 archive of the CSV blocks (see the module comment for its layout). */
export function zip64OfBlocks(name: string, blocks: Iterable<string>): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const out = new Bytes();
  const localExtra = record([
    [2, 1],
    [2, 16],
    [8, 0],
    [8, 0],
  ]);
  out.push(
    record([
      [4, 0x04034b50],
      [2, VERSION_ZIP64],
      [2, FLAG_DESCRIPTOR],
      [2, DEFLATED],
      [2, DOS_TIME],
      [2, DOS_DATE],
      [4, 0],
      [4, U32_MAX],
      [4, U32_MAX],
      [2, nameBytes.length],
      [2, localExtra.length],
    ]),
  );
  out.push(nameBytes);
  out.push(localExtra);
  const dataStart = out.length;
  let size = 0;
  let crc = 0;
  const deflate = new Deflate({ level: 6 }, (chunk) => out.push(chunk));
  const enc = new TextEncoder();
  for (const b of blocks) {
    const bytes = enc.encode(b);
    size += bytes.length;
    crc = Bun.hash.crc32(bytes, crc);
    deflate.push(bytes);
  }
  deflate.push(new Uint8Array(0), true);
  const compressed = out.length - dataStart;
  out.push(
    record([
      [4, 0x08074b50],
      [4, crc],
      [8, compressed],
      [8, size],
    ]),
  );
  const cdOffset = out.length;
  const cenExtra = record([
    [2, 1],
    [2, 24],
    [8, size],
    [8, compressed],
    [8, 0], // the local header's offset: the archive's first byte
  ]);
  out.push(
    record([
      [4, 0x02014b50],
      [2, VERSION_ZIP64],
      [2, VERSION_ZIP64],
      [2, FLAG_DESCRIPTOR],
      [2, DEFLATED],
      [2, DOS_TIME],
      [2, DOS_DATE],
      [4, crc],
      [4, U32_MAX],
      [4, U32_MAX],
      [2, nameBytes.length],
      [2, cenExtra.length],
      [2, 0],
      [2, 0],
      [2, 0],
      [4, 0],
      [4, U32_MAX],
    ]),
  );
  out.push(nameBytes);
  out.push(cenExtra);
  const cdSize = out.length - cdOffset;
  const zip64Eocd = out.length;
  out.push(
    record([
      [4, 0x06064b50],
      [8, 44], // bytes after this field
      [2, VERSION_ZIP64],
      [2, VERSION_ZIP64],
      [4, 0],
      [4, 0],
      [8, 1],
      [8, 1],
      [8, cdSize],
      [8, cdOffset],
    ]),
  );
  out.push(
    record([
      [4, 0x07064b50],
      [4, 0],
      [8, zip64Eocd],
      [4, 1],
    ]),
  );
  out.push(
    record([
      [4, 0x06054b50],
      [2, 0],
      [2, 0],
      [2, U16_MAX],
      [2, U16_MAX],
      [4, U32_MAX],
      [4, U32_MAX],
      [2, 0],
    ]),
  );
  // A plain Uint8Array (not a Buffer, whose slice() shares memory): callers may copy and patch it.
  const zip = new Uint8Array(out.length);
  let at = 0;
  for (const p of out.parts) {
    zip.set(p, at);
    at += p.length;
  }
  return zip;
}
