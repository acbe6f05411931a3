/**
 * Binance's public data archive (data.binance.vision): path scheme, verified download, streaming
 * unzip and CSV → rows. Imports only model/. The backfill (src/backfill/) builds on this.
 */
export { ArchiveCsvParser, type CsvOutput, MAX_LINE_BYTES } from "./csv.ts";
export { ArchiveError, type ArchiveErrorKind } from "./errors.ts";
export {
  ARCHIVE_DISK_MARGIN_BYTES,
  ARCHIVE_IN_MEMORY_ZIP_BYTES,
  type FetchOptions,
  fetchChecksum,
  fetchVerifiedZip,
  parseChecksumFile,
  type VerifiedZip,
} from "./fetch.ts";
export {
  ARCHIVE_DATASETS,
  type ArchiveDataset,
  type ArchiveFile,
  type ArchivePeriod,
  archiveBaseName,
  archiveChecksumPath,
  archiveCsvName,
  archiveFileError,
  archiveMonthDays,
  archiveUrl,
  archiveZipPath,
  KLINE_INTERVAL,
  parseArchivePath,
} from "./layout.ts";
export { type ArchiveFileResult, readArchiveFile, readArchiveZip } from "./reader.ts";
export {
  ARCHIVE_MICROS_FROM_MS,
  ARCHIVE_MICROS_MIN,
  archiveTimeFromUs,
  archiveTimeToUs,
  archiveUsesMicros,
  periodStartMs,
} from "./time-unit.ts";
export { inflateZip, type ZipEntry, type ZipSource, zipEntry } from "./zip.ts";
