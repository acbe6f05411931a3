/**
 * The archive's one time-unit rule. Binance's spot archive writes times in milliseconds in files
 * dated before 2025-01-01 and in microseconds from 2025-01-01 on (the fact; users were
 * bitten by it). The writer (the simulator) picks the unit by the file's date; the reader
 * normalises every value by its magnitude, so a file that mixes units, or a date rule that
 * shifts, still reads right: a millisecond epoch stays below 1e14 until the year 5138, and a
 * microsecond epoch is above 1e14 from 1973 on.
 */
export const ARCHIVE_MICROS_FROM_MS = Date.UTC(2025, 0, 1);
/** Values at or above this are microseconds; below, milliseconds. */
export const ARCHIVE_MICROS_MIN = 1e14;

/** Does the file for the UTC day (or month) starting at `periodStartMs` carry µs times? */
export function archiveUsesMicros(periodStartMs: number): boolean {
  return periodStartMs >= ARCHIVE_MICROS_FROM_MS;
}

/** An archive time value in µs, whichever unit it was written in. */
export function archiveTimeToUs(value: number): number {
  return value >= ARCHIVE_MICROS_MIN ? value : value * 1000;
}

/** µs → the value an archive file for `periodStartMs` holds (µs, or ms rounded down). */
export function archiveTimeFromUs(us: number, periodStartMs: number): number {
  return archiveUsesMicros(periodStartMs) ? us : Math.floor(us / 1000);
}

/** Start of the UTC day or month a `YYYY-MM-DD` / `YYYY-MM` date names, in epoch ms. */
export function periodStartMs(date: string): number {
  return Date.parse(date.length === 7 ? `${date}-01T00:00:00Z` : `${date}T00:00:00Z`);
}
