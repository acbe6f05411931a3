/**
 * Download one archive zip and verify it against its `.CHECKSUM` file (`sha256sum` format:
 * `<64 hex>  <file name>`) before anything reads it. The body is hashed as it streams in
 * (Bun.CryptoHasher), so a file is either verified whole or refused whole. A zip up to
 * ARCHIVE_IN_MEMORY_ZIP_BYTES is held in memory; a larger one (a busy symbol's monthly trades zip
 * is several GiB) is written to a temp file as it streams in and read from there (zip.ts), so
 * memory does not grow with the zip. The temp file goes when the VerifiedZip is disposed
 * (`using`), and with it on every failure here. A large zip of a local copy (`file://`) is
 * hashed and read in place instead, and never deleted.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ArchiveError } from "./errors.ts";
import {
  type ArchiveFile,
  archiveBaseName,
  archiveChecksumPath,
  archiveUrl,
  archiveZipPath,
} from "./layout.ts";
import type { ZipSource } from "./zip.ts";

/**
 * Largest zip read into memory: one native read and inflate from memory is the fastest path
 * (native-bench/backfill.ts); the biggest spot daily trades zips are a few hundred MB.
 */
export const ARCHIVE_IN_MEMORY_ZIP_BYTES = 256 * 1024 * 1024;
/**
 * Free space a zip written to disk must leave on its folder's file system: the run's staged
 * Parquet files land on the same one.
 */
export const ARCHIVE_DISK_MARGIN_BYTES = 512 * 1024 * 1024;

export interface FetchOptions {
  /**
   * Archive root, e.g. https://data.binance.vision, the simulator's http://127.0.0.1:port/archive,
   * or file:///mirror for a copy of the archive's layout on disk.
   */
  root: string;
  /** Largest zip held in memory (default ARCHIVE_IN_MEMORY_ZIP_BYTES); a larger one goes to `tempDir`. */
  inMemoryMaxBytes?: number;
  /**
   * Folder for a zip over the in-memory bound (default: the system's temp folder). A backfill
   * gives its staging folder, which the next run empties, so not even a crash leaves one behind.
   */
  tempDir?: string;
  signal?: AbortSignal;
}

export interface VerifiedZip extends Disposable {
  file: ArchiveFile;
  url: string;
  /** The zip's bytes, or the temp file holding them; read it before disposing. */
  source: ZipSource;
  /** The zip's length in bytes. */
  size: number;
  sha256: string;
}

async function get(url: string, signal: AbortSignal | undefined): Promise<Response> {
  if (url.startsWith("file:")) return getLocal(url);
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal } : {});
  } catch (e) {
    throw new ArchiveError("http", `${url}: request failed (${(e as Error).message})`, true);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ArchiveError("not_found", `${url}: not in the archive (404)`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ArchiveError("http", `${url}: HTTP ${res.status}`, res.status >= 500 || res.status === 429);
  }
  return res;
}

/**
 * A file of a local copy of the archive (a `file://` root: the archive's layout mirrored on disk).
 * Bun's fetch answers 200 with an empty body for a missing file, so the file is opened here: a
 * missing one is not_found like a 404, and the length is known (one native read, as for HTTP).
 */
async function getLocal(url: string): Promise<Response> {
  const f = Bun.file(fileURLToPath(url));
  if (!(await f.exists())) throw new ArchiveError("not_found", `${url}: not in the archive (no such file)`);
  return new Response(f, { headers: { "content-length": String(f.size) } });
}

/** The hex digest a CHECKSUM file gives for `zipName`, or a bad_checksum_file error. */
export function parseChecksumFile(text: string, zipName: string, url: string): string {
  const m = /^([0-9a-fA-F]{64}) [ *](\S+)\s*$/.exec(text.trim());
  if (!m) throw new ArchiveError("bad_checksum_file", `${url}: expected '<sha256 hex>  ${zipName}'`);
  if (m[2] !== zipName)
    throw new ArchiveError("bad_checksum_file", `${url}: names '${m[2]}', expected '${zipName}'`);
  return m[1]!.toLowerCase();
}

/**
 * The SHA-256 the file's CHECKSUM file gives (a few bytes: a backfill asks it first to skip a file
 * it already landed with the same checksum; a replaced file gets a new one).
 */
export async function fetchChecksum(file: ArchiveFile, opts: FetchOptions): Promise<string> {
  const sumUrl = archiveUrl(opts.root, archiveChecksumPath(file));
  return parseChecksumFile(
    await (await get(sumUrl, opts.signal)).text(),
    `${archiveBaseName(file)}.zip`,
    sumUrl,
  );
}

export async function fetchVerifiedZip(file: ArchiveFile, opts: FetchOptions): Promise<VerifiedZip> {
  const url = archiveUrl(opts.root, archiveZipPath(file));
  const want = await fetchChecksum(file, opts);
  const inMemoryMaxBytes = opts.inMemoryMaxBytes ?? ARCHIVE_IN_MEMORY_ZIP_BYTES;
  const hasher = new Bun.CryptoHasher("sha256");
  let body: { source: ZipSource; size: number };
  let release = (): void => {};
  const inPlace = url.startsWith("file:") ? await localZipInPlace(url, hasher, inMemoryMaxBytes) : null;
  if (inPlace) body = inPlace;
  else {
    body = await readBody(await get(url, opts.signal), url, hasher, {
      inMemoryMaxBytes,
      tempPath: () => join(opts.tempDir ?? tmpdir(), `${archiveBaseName(file)}.${crypto.randomUUID()}.zip`),
    });
    const { source } = body;
    if (!(source instanceof Uint8Array)) release = () => rmSync(source.path, { force: true });
  }
  const got = hasher.digest("hex");
  if (got !== want) {
    release();
    throw new ArchiveError(
      "checksum_mismatch",
      `${url}: SHA-256 ${got} differs from its CHECKSUM file (${want})`,
    );
  }
  return { file, url, source: body.source, size: body.size, sha256: got, [Symbol.dispose]: release };
}

/** Read size of the in-place hash: large enough that the syscalls do not count, small enough to stay in cache. */
const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * A local copy's zip over the in-memory bound is hashed and read where it lies: copying it to a
 * temp file would write the same bytes to disk a second time. The mirror owns the file, so the
 * VerifiedZip's dispose leaves it alone. Were the file replaced between the hash and the read,
 * the inflated entry's CRC-32 and size (zip.ts) refuse it. Null: the zip is small enough to
 * read into memory the usual way.
 */
async function localZipInPlace(
  url: string,
  hasher: Bun.CryptoHasher,
  inMemoryMaxBytes: number,
): Promise<{ source: ZipSource; size: number } | null> {
  const path = fileURLToPath(url);
  const f = Bun.file(path);
  if (!(await f.exists())) throw new ArchiveError("not_found", `${url}: not in the archive (no such file)`);
  if (f.size <= inMemoryMaxBytes) return null;
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(HASH_CHUNK_BYTES);
    let size = 0;
    for (let r = readSync(fd, buf, 0, buf.length, size); r > 0; r = readSync(fd, buf, 0, buf.length, size)) {
      hasher.update(buf.subarray(0, r));
      size += r;
    }
    return { source: { path }, size };
  } finally {
    closeSync(fd);
  }
}

/** A zip being written to its temp file; a failed write is an ArchiveError of kind disk. */
class TempZip {
  readonly fd: number;
  constructor(
    readonly path: string,
    readonly url: string,
  ) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, "wx");
    } catch (e) {
      throw diskError(url, path, e);
    }
  }

  /** Synchronous: a chunk is in the page cache in microseconds, and the caller is a stage worker. */
  write(chunk: Uint8Array): void {
    try {
      for (let off = 0; off < chunk.length; ) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch (e) {
      throw diskError(this.url, this.path, e);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Close (if open) and delete: every failure path. */
  remove(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    rmSync(this.path, { force: true });
  }
}

function diskError(url: string, path: string, e: unknown): ArchiveError {
  const code = (e as { code?: string }).code;
  const why = code === "ENOSPC" ? "no space left on its file system" : (e as Error).message;
  return new ArchiveError("disk", `${url}: could not write the zip to ${path} (${why})`);
}

/** Refuse before writing when the folder's file system cannot take `bytes` plus the margin. */
function checkFreeSpace(url: string, dir: string, bytes: number): void {
  let free: number;
  try {
    mkdirSync(dir, { recursive: true });
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch (e) {
    throw diskError(url, dir, e);
  }
  if (free < bytes + ARCHIVE_DISK_MARGIN_BYTES)
    throw new ArchiveError(
      "disk",
      `${url}: ${bytes} bytes to write to ${dir}, whose file system has ${free} bytes free ` +
        `(the zip plus ${ARCHIVE_DISK_MARGIN_BYTES} to spare are needed)`,
    );
}

/**
 * The response body, hashed on the way: in memory up to the bound, else in a temp file (when
 * Content-Length says so from the start, or from the chunk that crosses the bound when it does
 * not). A Content-Length the body does not match is a retryable http error.
 */
async function readBody(
  res: Response,
  url: string,
  hasher: Bun.CryptoHasher,
  o: { inMemoryMaxBytes: number; tempPath: () => string },
): Promise<{ source: ZipSource; size: number }> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  let total = 0;
  let temp: TempZip | undefined;
  const toDisk = (): TempZip => {
    const path = o.tempPath();
    checkFreeSpace(url, dirname(path), Math.max(declared, total));
    return new TempZip(path, url);
  };
  try {
    if (declared > 0 && declared <= o.inMemoryMaxBytes) {
      // The length is known and within the bound: one native read, no chunk list to join
      // (joining showed as ~10 % of a backfill's main thread in native-bench/backfill.ts).
      const bytes = await res.bytes();
      total = bytes.length;
      if (total !== declared) throw shortBody(url, total, declared);
      hasher.update(bytes);
      return { source: bytes, size: total };
    }
    let chunks: Uint8Array[] = [];
    if (declared > o.inMemoryMaxBytes) temp = toDisk();
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      hasher.update(chunk);
      if (temp) temp.write(chunk);
      else {
        chunks.push(chunk);
        if (total > o.inMemoryMaxBytes) {
          temp = toDisk();
          for (const c of chunks) temp.write(c);
          chunks = [];
        }
      }
    }
    if (declared > 0 && total !== declared) throw shortBody(url, total, declared);
    if (!temp)
      return { source: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total), size: total };
    temp.close();
    return { source: { path: temp.path }, size: total };
  } catch (e) {
    temp?.remove();
    await res.body?.cancel().catch(() => {});
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError(
      "http",
      `${url}: body broke off after ${total} bytes (${(e as Error).message})`,
      true,
    );
  }
}

function shortBody(url: string, total: number, declared: number): ArchiveError {
  return new ArchiveError("http", `${url}: body of ${total} bytes, Content-Length said ${declared}`, true);
}
