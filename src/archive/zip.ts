/**
 * One archive zip → its CSV bytes as a stream, checked to the end. fflate's streaming Unzip
 * inflates but does not check CRC-32 or sizes, and it silently yields nothing when the bytes stop
 * inside a header; so the central directory is read first (exactly one file, the expected name,
 * its CRC-32 and size), and the inflated stream must end with that CRC-32 and size.
 */
import { Unzip, UnzipInflate } from "fflate";
import { ArchiveError } from "./errors.ts";

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const EOCD_LEN = 22;
/** EOCD may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 65_535;

export interface ZipEntry {
  name: string;
  crc32: number;
  size: number;
  compressedSize: number;
}

function corrupt(label: string, what: string): ArchiveError {
  return new ArchiveError("corrupt_zip", `${label}: not a readable zip (${what})`);
}

/** The central directory's one entry, or a corrupt_zip error. */
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
  return {
    crc32: dv.getUint32(cd + 16, true),
    compressedSize: dv.getUint32(cd + 20, true),
    size: dv.getUint32(cd + 24, true),
    name: new TextDecoder().decode(zip.subarray(cd + 46, cd + 46 + nameLen)),
  };
}

/** Input chunk size: bounds each inflate step (and so each CSV batch burst) without a copy. */
const PUSH_BYTES = 1 << 20;

/**
 * Inflate the zip's one file named `expectName`, handing each decompressed chunk to `onData` in
 * order. Throws corrupt_zip when the stream breaks, ends early, or its CRC-32/size differ; errors
 * thrown by `onData` (a malformed CSV line) pass through unchanged. Returns the CSV byte count.
 */
export function inflateZip(
  zip: Uint8Array,
  expectName: string,
  label: string,
  onData: (chunk: Uint8Array) => void,
): number {
  const entry = zipEntry(zip, label);
  if (entry.name !== expectName) throw corrupt(label, `holds '${entry.name}', expected '${expectName}'`);
  let files = 0;
  let done = false;
  let size = 0;
  let crc = 0;
  let failure: unknown = null;
  const unzip = new Unzip((f) => {
    if (++files > 1) return;
    f.ondata = (err, chunk, final) => {
      if (failure !== null) return;
      if (err) {
        failure = corrupt(label, err.message);
        return;
      }
      try {
        if (chunk.length > 0) {
          size += chunk.length;
          crc = Bun.hash.crc32(chunk, crc);
          onData(chunk);
        }
      } catch (e) {
        failure = e;
      }
      if (final) done = true;
    };
    f.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let off = 0; off < zip.length && failure === null; off += PUSH_BYTES) {
      const end = Math.min(zip.length, off + PUSH_BYTES);
      unzip.push(zip.subarray(off, end), end === zip.length);
    }
  } catch (e) {
    if (failure === null) failure = corrupt(label, (e as Error).message);
  }
  if (failure !== null) throw failure;
  if (files !== 1 || !done) throw corrupt(label, "the compressed data ends early");
  if (size !== entry.size) throw corrupt(label, `inflated ${size} bytes, directory says ${entry.size}`);
  if (crc >>> 0 !== entry.crc32)
    throw corrupt(label, "CRC-32 of the inflated data differs from the directory");
  return size;
}
