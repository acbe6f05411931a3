/**
 * Serves the ArchiveStore under `/archive/` in the public archive's layout (src/archive/layout.ts
 * owns the paths): `/archive/data/spot/daily/<trades|aggTrades|klines>/<SYMBOL>/...zip` and
 * `.zip.CHECKSUM` (`sha256sum` format). Zips are built on first request (fflate) and cached per
 * file and fault. Monthly files (`/archive/data/spot/monthly/...-YYYY-MM.zip`) are served for every
 * calendar month the store holds whole, written in zip64 form (archive-zip64.ts), so the reader's
 * zip64 path runs end to end; a month the store does not hold whole answers 404.
 *
 * Faults, per file (POST /admin/faults `{"archive":{"file":{...},"fault":...}}`):
 * - missing:     the zip and its CHECKSUM answer 404 (a day or month missing from the archive)
 * - badChecksum: the CHECKSUM names a SHA-256 the zip does not have
 * - truncated:   the zip is cut in half and its CHECKSUM matches the cut bytes (a corrupt
 *                upload: only reading the zip finds it)
 * - stale:       the first upload, lacking the day's (month's) last row; switching the fault off is
 *                Binance replacing the file (new contents, new checksum)
 */
import { Zip, ZipDeflate } from "fflate";
import {
  type ArchiveFile,
  archiveBaseName,
  archiveCsvName,
  archiveZipPath,
  parseArchivePath,
} from "../archive/index.ts";
import type { ArchiveStore } from "./archive-store.ts";
import { zip64OfBlocks } from "./archive-zip64.ts";

export const ARCHIVE_PREFIX = "/archive/";
export const ARCHIVE_FAULTS = ["none", "missing", "badChecksum", "truncated", "stale"] as const;
export type ArchiveFault = (typeof ARCHIVE_FAULTS)[number];

interface Served {
  zip: Uint8Array;
  checksumLine: string;
}

/** Fixed zip timestamp: the same history always zips to the same bytes (and checksum). */
const ZIP_MTIME = new Date("2020-01-01T00:00:00Z");

/** One-file zip of the CSV blocks, deflated block by block (fflate's synchronous streaming Zip). */
function deflateToZip(name: string, blocks: Iterable<string>): Uint8Array {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else out.push(chunk);
  });
  const entry = new ZipDeflate(name, { level: 6 });
  entry.mtime = ZIP_MTIME;
  zip.add(entry);
  const enc = new TextEncoder();
  for (const b of blocks) entry.push(enc.encode(b));
  entry.push(new Uint8Array(0), true);
  zip.end();
  if (failure) throw failure;
  return Buffer.concat(out);
}

export class ArchiveServer {
  private readonly faults = new Map<string, ArchiveFault>();
  /** Bounded by the archived files × the five fault forms (a few days of a few symbols). */
  private readonly cache = new Map<string, Served>();

  constructor(private readonly store: ArchiveStore | null) {}

  setFault(file: ArchiveFile, fault: ArchiveFault): void {
    const key = archiveZipPath(file);
    if (fault === "none") this.faults.delete(key);
    else this.faults.set(key, fault);
  }

  faultList(): Array<{ path: string; fault: ArchiveFault }> {
    return [...this.faults].map(([path, fault]) => ({ path, fault }));
  }

  /** Build (or take from cache) the zip and CHECKSUM line of `file` under its current fault. */
  served(file: ArchiveFile): Served | null {
    if (!this.store) return null;
    const key = archiveZipPath(file);
    const fault = this.faults.get(key) ?? "none";
    if (fault === "missing") return null;
    const cacheKey = `${key}#${fault}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const stale = fault === "stale";
    const csv =
      file.period === "monthly"
        ? this.store.monthCsv(file.dataset, file.symbol, file.date, stale)
        : this.store.csv(file.dataset, file.symbol, file.date, stale);
    if (csv === null) return null;
    let zip =
      file.period === "monthly"
        ? zip64OfBlocks(archiveCsvName(file), csv)
        : deflateToZip(archiveCsvName(file), csv);
    if (fault === "truncated") zip = zip.slice(0, Math.floor(zip.length / 2));
    let sha = new Bun.CryptoHasher("sha256").update(zip).digest("hex");
    if (fault === "badChecksum") sha = new Bun.CryptoHasher("sha256").update(sha).digest("hex");
    const served = { zip, checksumLine: `${sha}  ${archiveBaseName(file)}.zip\n` };
    this.cache.set(cacheKey, served);
    return served;
  }

  handle(pathname: string): Response {
    const parsed = parseArchivePath(pathname.slice(ARCHIVE_PREFIX.length));
    const s = parsed ? this.served(parsed.file) : null;
    if (!parsed || !s) return new Response("Not Found", { status: 404 });
    if (parsed.checksum) return new Response(s.checksumLine, { headers: { "Content-Type": "text/plain" } });
    return new Response(s.zip, { headers: { "Content-Type": "application/zip" } });
  }
}
