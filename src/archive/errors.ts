/**
 * The archive reader's one error type. `kind` says what went wrong, `retryable` whether trying
 * the same file again later may help (a 5xx or a network error may pass; a 404 on a past day, a
 * bad checksum or a corrupt zip will not until Binance replaces the file).
 */
export type ArchiveErrorKind =
  /** The zip or its CHECKSUM file answered 404: the day is missing from the archive. */
  | "not_found"
  /** Any other HTTP failure or a network error. */
  | "http"
  /** The CHECKSUM file is not one `sha256sum` line naming the zip. */
  | "bad_checksum_file"
  /** The zip's SHA-256 differs from its CHECKSUM file. */
  | "checksum_mismatch"
  /** The zip cannot be read to its end (truncated, not a zip, CRC or size wrong, not one file). */
  | "corrupt_zip"
  /** A CSV line is not what the dataset's layout says. */
  | "malformed_line"
  /** A zip too big for memory could not be written to its temp folder (no space, an I/O error). */
  | "disk";

export class ArchiveError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: ArchiveErrorKind,
    message: string,
    retryable = false,
  ) {
    super(message);
    this.name = "ArchiveError";
    this.retryable = retryable;
  }
}
