/**
 * One archive zip → its CSV bytes as a stream, checked to the end. The container is read here
 * (end-of-central-directory record → the one central-directory entry → its local header), the
 * deflate data is inflated by the runtime's native zlib as a stream (DecompressionStream
 * "deflate-raw"), and the output must end with the directory's CRC-32 and size. Native inflate
 * is 3.5-6× fflate's JavaScript inflate on the same data (native-bench/archive-read.ts, "native
 * inflate" baseline), and inflate is the floor under the whole read; fflate still writes the
 * simulator's zips.
 */
import { ArchiveError } from "./errors.ts";

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const EOCD_LEN = 22;
/** EOCD may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 65_535;
const STORED = 0;
const DEFLATED = 8;
/** Input chunk handed to the inflater: bounds each step's output burst. */
const PUSH_BYTES = 1 << 20;

export interface ZipEntry {
  name: string;
  crc32: number;
  size: number;
  compressedSize: number;
  method: number;
  /** Offset of the compressed data in the zip. */
  dataOffset: number;
}

function corrupt(label: string, what: string): ArchiveError {
  return new ArchiveError("corrupt_zip", `${label}: not a readable zip (${what})`);
}

/** The zip's one entry and where its data lies, or a corrupt_zip error. */
export function zipEntry(zip: Uint8Array, label: string): ZipEntry {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let e = -1;
  for (let i = zip.length - EOCD_LEN; i >= 0 && i >= zip.length - EOCD_LEN - MAX_COMMENT; i--) {
    if (dv.getUint32(i, true) === EOCD_SIG) {
      e = i;
      break;
    }
  }
  if (e < 0) throw corrupt(label, "no end-of-central-directory record: truncated or not a zip");
  const entries = dv.getUint16(e + 10, true);
  if (entries !== 1) throw corrupt(label, `expected one file inside, found ${entries}`);
  const cd = dv.getUint32(e + 16, true);
  if (cd + 46 > e || dv.getUint32(cd, true) !== CEN_SIG)
    throw corrupt(label, "central directory out of place");
  const nameLen = dv.getUint16(cd + 28, true);
  if (cd + 46 + nameLen > e) throw corrupt(label, "central directory entry cut short");
  const compressedSize = dv.getUint32(cd + 20, true);
  const size = dv.getUint32(cd + 24, true);
  if (compressedSize === 0xffffffff || size === 0xffffffff)
    throw corrupt(label, "zip64 (a file over 4 GiB) is not supported yet");
  const loc = dv.getUint32(cd + 42, true);
  if (loc + 30 > cd || dv.getUint32(loc, true) !== LOC_SIG) throw corrupt(label, "local header out of place");
  const dataOffset = loc + 30 + dv.getUint16(loc + 26, true) + dv.getUint16(loc + 28, true);
  if (dataOffset + compressedSize > cd)
    throw corrupt(label, "compressed data runs into the central directory");
  return {
    name: new TextDecoder().decode(zip.subarray(cd + 46, cd + 46 + nameLen)),
    crc32: dv.getUint32(cd + 16, true),
    compressedSize,
    size,
    method: dv.getUint16(cd + 10, true),
    dataOffset,
  };
}

/** Inflated chunks of `data` (raw deflate), in order; a broken stream throws the runtime's error. */
async function* inflateRaw(data: Uint8Array): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  const feeding = (async () => {
    for (let off = 0; off < data.length; off += PUSH_BYTES)
      await writer.write(
        data.subarray(off, Math.min(data.length, off + PUSH_BYTES)) as Uint8Array<ArrayBuffer>,
      );
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
  zip: Uint8Array,
  expectName: string,
  label: string,
  onData: (chunk: Uint8Array) => void | Promise<void>,
): Promise<number> {
  const entry = zipEntry(zip, label);
  if (entry.name !== expectName) throw corrupt(label, `holds '${entry.name}', expected '${expectName}'`);
  const data = zip.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  let size = 0;
  let crc = 0;
  const take = (chunk: Uint8Array): void | Promise<void> => {
    size += chunk.length;
    if (size > entry.size) throw corrupt(label, `inflates past the ${entry.size} bytes its directory gives`);
    crc = Bun.hash.crc32(chunk, crc);
    return onData(chunk);
  };
  if (entry.method === STORED) {
    for (let off = 0; off < data.length; off += PUSH_BYTES) await take(data.subarray(off, off + PUSH_BYTES));
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
