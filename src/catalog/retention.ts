/**
 * Retention (off by default): drop partitions whose UTC date is more than `keepDays` days
 * before today, i.e. keep today and the `keepDays` previous dates. A partition leaves the
 * catalog in one synchronous swap (all its files at once, so a reader sees all of it or none)
 * and its files are deleted once no snapshot pins them.
 */
import { dayOfDate, dayOfUs } from "../sink/parquet/index.ts";
import type { Catalog } from "./catalog.ts";
import { deleteRetired } from "./compact.ts";
import { removeEmptyDirs } from "./scan.ts";

export interface RetentionOptions {
  readonly catalog: Catalog;
  readonly dataDir: string;
  /** Whole days to keep before today; undefined = retention off. */
  readonly keepDays: number | undefined;
  readonly nowUs: number;
  readonly pinTimeoutMs?: number;
}

export interface RetentionOutcome {
  readonly partitions: number;
  readonly files: number;
  readonly rows: number;
  /** Files deleted now; the others wait for readers and go in a later deleteRetired. */
  readonly deleted: number;
}

export async function applyRetention(o: RetentionOptions): Promise<RetentionOutcome> {
  if (o.keepDays === undefined) return { partitions: 0, files: 0, rows: 0, deleted: 0 };
  if (!Number.isInteger(o.keepDays) || o.keepDays < 0)
    throw new RangeError(`keepDays must be an integer ≥ 0, got ${o.keepDays}`);
  const cutoff = dayOfUs(o.nowUs) - o.keepDays;
  let partitions = 0;
  let files = 0;
  let rows = 0;
  const paths: string[] = [];
  const dropped = o.catalog.partitions().filter((p) => (dayOfDate(p.date) ?? cutoff) < cutoff);
  for (const p of dropped) {
    const fs = o.catalog.files({ table: p.table, symbol: p.symbol, date: p.date });
    if (!o.catalog.swap(fs)) continue;
    partitions++;
    files += fs.length;
    rows += p.rows;
    paths.push(...fs.map((f) => f.path));
  }
  await o.catalog.whenUnpinned(paths, o.pinTimeoutMs ?? 10_000);
  const deleted = await deleteRetired(o.catalog);
  for (const p of dropped) await removeEmptyDirs(o.dataDir, p);
  return { partitions, files, rows, deleted };
}
