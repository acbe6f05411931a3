/**
 * Download one archive zip and verify it against its `.CHECKSUM` file (`sha256sum` format:
 * `<64 hex>  <file name>`) before anything reads it. The body is hashed as it streams in
 * (Bun.CryptoHasher) and held in memory up to a bound, so a file is either verified whole or
 * refused whole.
 */
import { fileURLToPath } from "node:url";
import { ArchiveError } from "./errors.ts";
import {
  type ArchiveFile,
  archiveBaseName,
  archiveChecksumPath,
  archiveUrl,
  archiveZipPath,
} from "./layout.ts";

/** Largest zip accepted: the biggest spot daily trades files are a few hundred MB. */
export const ARCHIVE_MAX_ZIP_BYTES = 1 << 30;

export interface FetchOptions {
  /**
   * Archive root, e.g. https://data.binance.vision, the simulator's http://127.0.0.1:port/archive,
   * or file:///mirror for a copy of the archive's layout on disk.
   */
  root: string;
  maxZipBytes?: number;
  signal?: AbortSignal;
}

export interface VerifiedZip {
  file: ArchiveFile;
  url: string;
  bytes: Uint8Array;
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
  const res = await get(url, opts.signal);
  const max = opts.maxZipBytes ?? ARCHIVE_MAX_ZIP_BYTES;
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > max) {
    await res.body?.cancel();
    throw new ArchiveError("too_large", `${url}: ${declared} bytes, more than the ${max}-byte bound`);
  }
  const hasher = new Bun.CryptoHasher("sha256");
  let bytes: Uint8Array;
  let total = 0;
  try {
    if (declared > 0) {
      // The length is known and within the bound: one native read, no chunk list to join
      // (joining showed as ~10 % of a backfill's main thread in native-bench/backfill.ts).
      bytes = await res.bytes();
      total = bytes.length;
      if (total !== declared)
        throw new ArchiveError(
          "http",
          `${url}: body of ${total} bytes, Content-Length said ${declared}`,
          true,
        );
      hasher.update(bytes);
    } else {
      const chunks: Uint8Array[] = [];
      for await (const chunk of res.body ?? []) {
        total += chunk.length;
        if (total > max) {
          await res.body?.cancel();
          throw new ArchiveError("too_large", `${url}: more than the ${max}-byte bound`);
        }
        hasher.update(chunk);
        chunks.push(chunk);
      }
      bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    }
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError(
      "http",
      `${url}: body broke off after ${total} bytes (${(e as Error).message})`,
      true,
    );
  }
  const got = hasher.digest("hex");
  if (got !== want)
    throw new ArchiveError(
      "checksum_mismatch",
      `${url}: SHA-256 ${got} differs from its CHECKSUM file (${want})`,
    );
  return { file, url, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), sha256: got };
}
