/**
 * One archive zip → its CSV bytes as a stream, checked to the end. The container is read here
 * (end-of-central-directory record → the one central-directory entry → its local header), the
 * deflate data is inflated by the runtime's native zlib as a stream (DecompressionStream
 * "deflate-raw"), and the output must end with the directory's CRC-32 and size. Zip64 (a file
 * over 4 GiB: Binance's monthly files of a busy symbol) is read the same way: its end record and
 * locator, the zip64 extra fields of the directory and local header, and an 8-byte data
 * descriptor; a data descriptor, when present, must repeat the directory's CRC and sizes. Native inflate
 * is 3.5-6× fflate's JavaScript inflate on the same data (native-bench/archive-read.ts, "native
 * inflate" baseline), and inflate is the floor under the whole read; fflate still writes the
 * simulator's zips. A zip too big to hold in memory is read from a file the same way: its records
 * through a few small reads (zip-file.ts), its data streamed from disk into the same inflater.
 */
import { ArchiveError } from "./errors.ts";
import { FileZipView, type ZipView } from "./zip-file.ts";

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const DESCRIPTOR_SIG = 0x08074b50;
const EOCD_LEN = 22;
const ZIP64_EOCD_LEN = 56;
const ZIP64_LOCATOR_LEN = 20;
/** The zip64 extra field's header id (APPNOTE 4.5.3). */
const ZIP64_EXTRA_ID = 0x0001;
/** A 16- or 32-bit field holding this says "the real value is in the zip64 record/extra field". */
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** General-purpose flag bit 3: sizes and CRC follow the data in a data descriptor. */
const FLAG_DESCRIPTOR = 0x08;
/** EOCD may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 65_535;
const STORED = 0;
const DEFLATED = 8;
/** Input chunk handed to the inflater: bounds each step's output burst. */
const PUSH_BYTES = 1 << 20;

/**
 * A zip to read: its bytes in memory, or a file on disk (a zip too big to hold: fetch.ts streams
 * it there). Both go through the same record parser; a file's records are read in small windows
 * and its data streamed, so memory does not grow with the zip.
 */
export type ZipSource = Uint8Array | { readonly path: string };

export interface ZipEntry {
  name: string;
  crc32: number;
  size: number;
  compressedSize: number;
  method: number;
  /** Offset of the compressed data in the zip. */
  dataOffset: number;
  /** Sizes in zip64 form (a file over 4 GiB, or a writer that always uses zip64). */
  zip64: boolean;
  /** A data descriptor follows the data (flag bit 3): checked against the directory before inflate. */
  descriptor: boolean;
  /** The local header has a zip64 extra field: the data descriptor's sizes are 8 bytes each. */
  descriptor64: boolean;
}

function corrupt(label: string, what: string): ArchiveError {
  return new ArchiveError("corrupt_zip", `${label}: not a readable zip (${what})`);
}

/** A 64-bit little-endian field as a number; past 2^53 (no real zip) it is corrupt. */
function u64(dv: ZipView, at: number, label: string, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(label, `zip64 ${what} ${v} is out of range`);
  return Number(v);
}

/** Offset of the zip64 extra field in `[from, to)`, or -1. */
function findZip64Extra(dv: ZipView, from: number, to: number): number {
  for (let at = from; at + 4 <= to; ) {
    const len = dv.getUint16(at + 2, true);
    if (at + 4 + len > to) return -1;
    if (dv.getUint16(at, true) === ZIP64_EXTRA_ID) return at;
    at += 4 + len;
  }
  return -1;
}

/**
 * The zip64 extra field in `[from, to)` (APPNOTE 4.5.3): its 8-byte values, in the order the
 * spec gives (size, compressed size, local header offset) for exactly the fields `want` names.
 */
function zip64Extra(
  dv: ZipView,
  from: number,
  to: number,
  want: readonly string[],
  label: string,
  where: string,
): number[] {
  const at = findZip64Extra(dv, from, to);
  if (at < 0)
    throw corrupt(label, `the ${where} marks ${want.join(", ")} as zip64 but has no zip64 extra field`);
  const len = dv.getUint16(at + 2, true);
  if (len < want.length * 8)
    throw corrupt(
      label,
      `zip64 extra field of the ${where} holds ${len} bytes, ${want.join(", ")} need ${want.length * 8}`,
    );
  return want.map((w, i) => u64(dv, at + 4 + i * 8, label, `${where} ${w}`));
}

/** Where the central directory lies and how many entries it has: from the EOCD, or its zip64 record. */
function centralDirectory(
  dv: ZipView,
  e: number,
  label: string,
): { entries: number; cd: number; cdEnd: number; zip64: boolean } {
  let entries = dv.getUint16(e + 10, true);
  let cd = dv.getUint32(e + 16, true);
  const loc = e - ZIP64_LOCATOR_LEN;
  const hasLocator = loc >= 0 && dv.getUint32(loc, true) === ZIP64_LOCATOR_SIG;
  const marked = entries === U16_MAX || cd === U32_MAX || dv.getUint32(e + 12, true) === U32_MAX;
  if (!hasLocator) {
    if (marked) throw corrupt(label, "end record points to a zip64 record, but no zip64 locator precedes it");
    return { entries, cd, cdEnd: e, zip64: false };
  }
  const rec = u64(dv, loc + 8, label, "end record offset");
  if (rec + ZIP64_EOCD_LEN > loc || dv.getUint32(rec, true) !== ZIP64_EOCD_SIG)
    throw corrupt(label, "zip64 end-of-central-directory record out of place");
  const total = u64(dv, rec + 32, label, "entry count");
  if (u64(dv, rec + 24, label, "entry count on this disk") !== total)
    throw corrupt(label, "zip64 end record: spans several disks");
  entries = total;
  cd = u64(dv, rec + 48, label, "central directory offset");
  const cdSize = u64(dv, rec + 40, label, "central directory size");
  if (cd + cdSize !== rec)
    throw corrupt(label, "zip64 end record: central directory size and offset disagree");
  return { entries, cd, cdEnd: rec, zip64: true };
}

/** The zip's one entry and where its data lies, or a corrupt_zip error (zip64 read as well). */
export function zipEntry(zip: Uint8Array, label: string): ZipEntry {
  return entryOf(new DataView(zip.buffer, zip.byteOffset, zip.byteLength), label);
}

/** zipEntry over any view of the zip's bytes (offsets are the zip's own, whatever holds them). */
function entryOf(dv: ZipView, label: string): ZipEntry {
  const zipLength = dv.byteLength;
  let e = -1;
  for (let i = zipLength - EOCD_LEN; i >= 0 && i >= zipLength - EOCD_LEN - MAX_COMMENT; i--) {
    if (dv.getUint32(i, true) === EOCD_SIG) {
      e = i;
      break;
    }
  }
  if (e < 0) throw corrupt(label, "no end-of-central-directory record: truncated or not a zip");
  const dir = centralDirectory(dv, e, label);
  if (dir.entries !== 1) throw corrupt(label, `expected one file inside, found ${dir.entries}`);
  const cd = dir.cd;
  if (cd + 46 > dir.cdEnd || dv.getUint32(cd, true) !== CEN_SIG)
    throw corrupt(label, "central directory out of place");
  const nameLen = dv.getUint16(cd + 28, true);
  const extraLen = dv.getUint16(cd + 30, true);
  if (cd + 46 + nameLen + extraLen > dir.cdEnd) throw corrupt(label, "central directory entry cut short");
  let compressedSize = dv.getUint32(cd + 20, true);
  let size = dv.getUint32(cd + 24, true);
  let loc = dv.getUint32(cd + 42, true);
  // Only the fields that overflow 32 bits are in the extra field, in this order (APPNOTE 4.5.3).
  const big = [
    ["size", size],
    ["compressed size", compressedSize],
    ["local header offset", loc],
  ].filter(([, v]) => v === U32_MAX) as [string, number][];
  const zip64 = big.length > 0;
  if (zip64) {
    const x = cd + 46 + nameLen;
    const vals = zip64Extra(
      dv,
      x,
      x + extraLen,
      big.map(([w]) => w),
      label,
      "central directory entry",
    );
    big.forEach(([w], i) => {
      if (w === "size") size = vals[i]!;
      else if (w === "compressed size") compressedSize = vals[i]!;
      else loc = vals[i]!;
    });
  }
  if (loc + 30 > cd || dv.getUint32(loc, true) !== LOC_SIG) throw corrupt(label, "local header out of place");
  const flags = dv.getUint16(loc + 6, true);
  const locNameLen = dv.getUint16(loc + 26, true);
  const locExtraLen = dv.getUint16(loc + 28, true);
  const dataOffset = loc + 30 + locNameLen + locExtraLen;
  const descriptor = (flags & FLAG_DESCRIPTOR) !== 0;
  const locExtra = loc + 30 + locNameLen;
  if (locExtra + locExtraLen > cd) throw corrupt(label, "local header cut short");
  const descriptor64 = findZip64Extra(dv, locExtra, locExtra + locExtraLen) >= 0;
  // Without a data descriptor the local header's sizes are real and must agree with the directory.
  if (!descriptor) {
    let locCompressed = dv.getUint32(loc + 18, true);
    let locSize = dv.getUint32(loc + 22, true);
    if (locCompressed === U32_MAX || locSize === U32_MAX) {
      [locSize, locCompressed] = zip64Extra(
        dv,
        locExtra,
        locExtra + locExtraLen,
        ["size", "compressed size"],
        label,
        "local header",
      ) as [number, number];
    }
    if (locCompressed !== compressedSize || locSize !== size)
      throw corrupt(label, "local header and central directory give different sizes");
  }
  if (dataOffset + compressedSize > cd)
    throw corrupt(label, "compressed data runs into the central directory");
  return {
    name: new TextDecoder().decode(Uint8Array.from({ length: nameLen }, (_, i) => dv.getUint8(cd + 46 + i))),
    crc32: dv.getUint32(cd + 16, true),
    compressedSize,
    size,
    method: dv.getUint16(cd + 10, true),
    dataOffset,
    zip64: zip64 || dir.zip64 || descriptor64,
    descriptor,
    descriptor64,
  };
}

/**
 * The data descriptor after an entry's data (flag bit 3: a streaming writer learns CRC and sizes
 * only at the end): optional signature, CRC-32, then compressed and uncompressed size. It must
 * repeat the directory's values. Its sizes are 8 bytes each when the local header has a zip64
 * extra field (APPNOTE 4.3.9.2), else 4; but Java's ZipOutputStream writes 8-byte sizes for a
 * big entry without that field, so either width is taken when it repeats the directory.
 */
function checkDescriptor(dv: ZipView, entry: ZipEntry, label: string): void {
  let at = entry.dataOffset + entry.compressedSize;
  if (at + 4 <= dv.byteLength && dv.getUint32(at, true) === DESCRIPTOR_SIG) at += 4;
  const agrees = (wide: boolean): boolean => {
    if (at + (wide ? 20 : 12) > dv.byteLength) return false;
    const compressed = wide ? Number(dv.getBigUint64(at + 4, true)) : dv.getUint32(at + 4, true);
    const size = wide ? Number(dv.getBigUint64(at + 12, true)) : dv.getUint32(at + 8, true);
    return (
      dv.getUint32(at, true) === entry.crc32 && compressed === entry.compressedSize && size === entry.size
    );
  };
  if (!agrees(entry.descriptor64) && !agrees(!entry.descriptor64))
    throw corrupt(label, "data descriptor and central directory disagree (or the descriptor is cut short)");
}

/** `data` in pieces of PUSH_BYTES (views, no copy). */
function* pieces(data: Uint8Array): Generator<Uint8Array> {
  for (let off = 0; off < data.length; off += PUSH_BYTES)
    yield data.subarray(off, Math.min(data.length, off + PUSH_BYTES));
}

/** Inflated chunks of `data` (raw deflate), in order; a broken stream throws the runtime's error. */
async function* inflateRaw(
  data: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  const feeding = (async () => {
    for await (const piece of data) await writer.write(piece as Uint8Array<ArrayBuffer>);
    await writer.close();
  })();
  feeding.catch(() => {}); // its failure surfaces through the readable side below
  const reader = ds.readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
    await feeding;
  } finally {
    reader.releaseLock();
    await ds.readable.cancel().catch(() => {});
  }
}

/**
 * Inflate the zip's one file named `expectName`, handing each decompressed chunk to `onData` in
 * order. Rejects with corrupt_zip when the container or the stream is broken, ends early, or its
 * CRC-32/size differ; errors thrown by `onData` (a malformed CSV line) pass through unchanged.
 * When `onData` returns a promise it is awaited before the next chunk: a consumer whose writes
 * fall behind holds the inflater back instead of buffering rows.
 * Resolves to the CSV byte count.
 */
export async function inflateZip(
  zip: ZipSource,
  expectName: string,
  label: string,
  onData: (chunk: Uint8Array) => void | Promise<void>,
): Promise<number> {
  let entry: ZipEntry;
  let data: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  if (zip instanceof Uint8Array) {
    const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    entry = entryOf(dv, label);
    if (entry.descriptor) checkDescriptor(dv, entry, label);
    data = pieces(zip.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize));
  } else {
    const view = FileZipView.open(zip.path);
    try {
      entry = entryOf(view, label);
      if (entry.descriptor) checkDescriptor(view, entry, label);
    } finally {
      view.close();
    }
    // Streamed from disk in the runtime's read chunks: memory stays at a few chunks.
    data = Bun.file(zip.path)
      .slice(entry.dataOffset, entry.dataOffset + entry.compressedSize)
      .stream();
  }
  if (entry.name !== expectName) throw corrupt(label, `holds '${entry.name}', expected '${expectName}'`);
  let size = 0;
  let crc = 0;
  const take = (chunk: Uint8Array): void | Promise<void> => {
    size += chunk.length;
    if (size > entry.size) throw corrupt(label, `inflates past the ${entry.size} bytes its directory gives`);
    crc = Bun.hash.crc32(chunk, crc);
    return onData(chunk);
  };
  if (entry.method === STORED) {
    for await (const piece of data) await take(piece);
  } else if (entry.method === DEFLATED) {
    const chunks = inflateRaw(data);
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw corrupt(label, `deflate data broken: ${(e as Error).message}`);
      }
      if (next.done) break;
      try {
        const waiting = take(next.value);
        if (waiting) await waiting;
      } catch (e) {
        await chunks.return(undefined);
        throw e;
      }
    }
  } else throw corrupt(label, `compression method ${entry.method}, expected deflate (8) or stored (0)`);
  if (size !== entry.size) throw corrupt(label, `inflated ${size} bytes, directory says ${entry.size}`);
  if (crc >>> 0 !== entry.crc32)
    throw corrupt(label, "CRC-32 of the inflated data differs from the directory");
  return size;
}
