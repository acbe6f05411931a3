/**
 * Object keys mirror the local Hive layout exactly:
 *   `<prefix>/<table>/date=YYYY-MM-DD/symbol=<SYM>/<name>.parquet`
 * so any Hive-aware reader (DuckDB, Spark, Athena) can read the bucket as it reads the folder.
 * A key that does not parse as that layout is someone else's: never downloaded, never deleted.
 */
import { join } from "node:path";
import { isVisibleParquetName, type PartitionKey, parsePartition, partitionDir } from "../parquet/index.ts";

export interface FileRef extends PartitionKey {
  readonly name: string;
}

/** The key of a local file, from its partition and name (no path arithmetic). */
export function objectKey(prefix: string, f: FileRef): string {
  const rel = `${f.table}/date=${f.date}/symbol=${f.symbol}/${f.name}`;
  return prefix ? `${prefix}/${rel}` : rel;
}

/** The listing prefix: "" for the whole bucket, otherwise `<prefix>/` (never a sibling's keys). */
export function listPrefix(prefix: string): string {
  return prefix ? `${prefix}/` : "";
}

/** Parse a listed key back into partition + name; null when it is not a K2 data file. */
export function parseObjectKey(prefix: string, key: string): FileRef | null {
  const lp = listPrefix(prefix);
  if (!key.startsWith(lp)) return null;
  const parts = key.slice(lp.length).split("/");
  if (parts.length !== 4) return null;
  const [table, dateSeg, symbolSeg, name] = parts as [string, string, string, string];
  const p = parsePartition(table, dateSeg, symbolSeg);
  if (!p || !isVisibleParquetName(name)) return null;
  return { ...p, name };
}

/** Where a file lives in the local folder. */
export function localPath(dataDir: string, f: FileRef): string {
  return join(partitionDir(dataDir, f.table, f.date, f.symbol), f.name);
}
