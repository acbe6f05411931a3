/**
 * One archive file from URL to rows: fetch + SHA-256 (fetch.ts), then native inflate (zip.ts) streaming
 * into the CSV parser (csv.ts), which hands rows on in batches through `out.flush`.
 *
 * Never half-delivered: nothing reaches `flush` before the checksum passed; a corrupt zip or a
 * malformed line can only be found while reading, so the batches a failing file already flushed
 * are STAGED rows: the promise rejects with an ArchiveError and the caller discards what it
 * staged from this file (a backfill writes a file's rows to storage only after its promise
 * resolved). The result's counts let the caller check it received every row.
 */
import { ArchiveCsvParser, type CsvOutput } from "./csv.ts";
import { type FetchOptions, fetchVerifiedZip } from "./fetch.ts";
import { type ArchiveFile, archiveCsvName } from "./layout.ts";
import { inflateZip, type ZipSource } from "./zip.ts";

export interface ArchiveFileResult {
  file: ArchiveFile;
  url: string;
  sha256: string;
  zipBytes: number;
  csvBytes: number;
  /** Rows handed to `flush` (one per CSV line). */
  rows: number;
}

/** Parse a verified zip's CSV into `out`; rejects with corrupt_zip or malformed_line. */
export async function readArchiveZip(
  zip: ZipSource,
  file: ArchiveFile,
  out: CsvOutput,
  symbolId: number,
  recvTimeUs: number,
  label = archiveCsvName(file),
): Promise<{ csvBytes: number; rows: number }> {
  const parser = new ArchiveCsvParser(out, symbolId, recvTimeUs, label);
  const csvBytes = await inflateZip(zip, archiveCsvName(file), label, (chunk) => parser.push(chunk));
  parser.end();
  return { csvBytes, rows: parser.rowsParsed };
}

/** Download, verify and parse one archive file (see the module comment for failure semantics). */
export async function readArchiveFile(
  file: ArchiveFile,
  out: CsvOutput,
  symbolId: number,
  recvTimeUs: number,
  opts: FetchOptions,
): Promise<ArchiveFileResult> {
  if (out.dataset !== file.dataset)
    throw new RangeError(`output is for ${out.dataset}, the file holds ${file.dataset}`);
  using z = await fetchVerifiedZip(file, opts);
  const r = await readArchiveZip(z.source, file, out, symbolId, recvTimeUs, z.url);
  return { file, url: z.url, sha256: z.sha256, zipBytes: z.size, csvBytes: r.csvBytes, rows: r.rows };
}
