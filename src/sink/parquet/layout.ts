/**
 * Where files live: `<dataDir>/<table>/date=YYYY-MM-DD/symbol=<SYMBOL>/<name>.parquet` (Hive
 * style, so DuckDB's `hive_partitioning=true` adds `date` and `symbol` from the path).
 *
 * File name: `<minId>-<maxId>-<writtenAtMs>-<seq>.parquet`, ids zero-padded to 16 digits (ids
 * are < 2^53 ≈ 9.0e15), writtenAtMs to 13, seq to 6. Ids rise with time per (table, symbol), so
 * names sort by time; the id range is readable from `ls`; writtenAtMs (pool start) + seq (per
 * pool) make names unique across restarts. A scale-out writer adds its id (`…-<seq>-<writer>.parquet`,
 * e.g. `w1of4`) so that no two writers of a shared folder can ever pick one name. A file being
 * written is `.tmp-<name>.partial`
 * (tempNameOf): invisible to the catalog (leading dot) and to `*.parquet` globs (suffix).
 */
import { join } from "node:path";
import { SYMBOL_RE, TABLE_NAMES, type TableName } from "../../model/index.ts";

export const PARQUET_EXT = ".parquet";
export const TEMP_PREFIX = ".tmp-";
/**
 * DuckDB's `read_parquet('…/*.parquet')` glob matches dot-files too (checked with DuckDB 1.x:
 * a `.tmp-x.parquet` beside `x.parquet` was read), so a leading dot alone would let the README's
 * query read a file half written. The suffix keeps temp files out of every `*.parquet` glob.
 */
export const TEMP_SUFFIX = ".partial";
export const US_PER_DAY = 86_400_000_000;
const ID_DIGITS = 16;

/** UTC day number (days since 1970-01-01) of a µs timestamp: cheap batch key, no allocation. */
export function dayOfUs(us: number): number {
  return Math.floor(us / US_PER_DAY);
}

/** "YYYY-MM-DD" of a UTC day number. */
export function dateOfDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** "YYYY-MM-DD" (UTC) of a µs timestamp. */
export function dateOfUs(us: number): string {
  return dateOfDay(dayOfUs(us));
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** UTC day number of "YYYY-MM-DD", or null when it is not a real calendar date. */
export function dayOfDate(date: string): number | null {
  const m = DATE_RE.exec(date);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (dateOfDay(ms / 86_400_000) !== date) return null;
  return ms / 86_400_000;
}

export function partitionDir(dataDir: string, table: TableName, date: string, symbol: string): string {
  return join(dataDir, table, `date=${date}`, `symbol=${symbol}`);
}

/** A writer id fit for a file name: letters and digits only. */
export const WRITER_ID_RE = /^[A-Za-z0-9]{1,32}$/;

export function fileName(
  minId: number,
  maxId: number,
  writtenAtMs: number,
  seq: number,
  writer?: string,
): string {
  const id = (n: number) => String(n).padStart(ID_DIGITS, "0");
  const tag = writer === undefined ? "" : `-${writer}`;
  return `${id(minId)}-${id(maxId)}-${String(writtenAtMs).padStart(13, "0")}-${String(seq).padStart(6, "0")}${tag}${PARQUET_EXT}`;
}

/** Where `name` is written before its rename into place. */
export function tempNameOf(name: string): string {
  return TEMP_PREFIX + name + TEMP_SUFFIX;
}

/** A name a reader should open: a .parquet file that is not hidden (temp files start with "."). */
export function isVisibleParquetName(name: string): boolean {
  return !name.startsWith(".") && name.endsWith(PARQUET_EXT);
}

export interface PartitionKey {
  readonly table: TableName;
  readonly date: string;
  readonly symbol: string;
}

/** Parse the three path segments under dataDir; null when they are not a K2 partition. */
export function parsePartition(tableSeg: string, dateSeg: string, symbolSeg: string): PartitionKey | null {
  if (!(TABLE_NAMES as readonly string[]).includes(tableSeg)) return null;
  if (!dateSeg.startsWith("date=") || !symbolSeg.startsWith("symbol=")) return null;
  const date = dateSeg.slice(5);
  const symbol = symbolSeg.slice(7);
  if (dayOfDate(date) === null || !SYMBOL_RE.test(symbol)) return null;
  return { table: tableSeg as TableName, date, symbol };
}
