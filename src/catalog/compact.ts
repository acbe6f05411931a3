/**
 * Compaction: merge the small files of one partition into one file, deduplicated by id.
 *
 * Protocol and guarantee:
 *  1. The worker writes the merged file atomically (temp → fsync → rename → fsync dir); its
 *     footer lists the merged names in `k2.replaces`. It is now on disk but not in the catalog.
 *  2. `catalog.swap(sources, merged)`: one synchronous step. A catalog reader's snapshot holds
 *     either all sources or the merged file, never both, never neither.
 *  3. Sources are deleted once no snapshot pins them (bounded wait; still-pinned files stay
 *     retired and are deleted by a later `deleteRetired`).
 * A directory-listing reader that honours `k2.replaces` and re-lists when a listed file
 * vanishes (scan.ts scanPartition) gets the same guarantee. A naive glob reader (DuckDB over
 * `**\/*.parquet`) may see sources and merged file together between steps 1 and 3: it must
 * read the file list from the catalog instead. A crash between 1 and 3 is repaired by the
 * rebuild, which drops (and may delete) files named in a present file's `k2.replaces`.
 */
import { unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { TableName } from "../model/index.ts";
import { fsyncDirAsync } from "../sink/errno.ts";
import { dayOfDate, dayOfUs, type FileInfo, type ParquetWriterPool } from "../sink/parquet/index.ts";
import type { Catalog } from "./catalog.ts";

export interface MaintenanceDeps {
  readonly catalog: Catalog;
  readonly pool: ParquetWriterPool;
  /** How long to wait for readers to release old files before leaving them for later. */
  readonly pinTimeoutMs?: number;
}

export interface CompactionOutcome {
  readonly merged: FileInfo;
  readonly replaced: readonly FileInfo[];
  readonly duplicatesDropped: number;
  /** Old files deleted now; the rest are retired and pinned by readers. */
  readonly deleted: number;
}

const compacting = new WeakMap<Catalog, Set<string>>();

/** Delete retired files nobody pins; fsync their folders. Returns how many were deleted. */
export async function deleteRetired(catalog: Catalog, graceMs = 0): Promise<number> {
  const paths = catalog.deletable(graceMs);
  const dirs = new Set<string>();
  for (const p of paths) {
    await unlink(p).catch((err: { code?: string }) => {
      if (err.code !== "ENOENT") throw err;
    });
    dirs.add(dirname(p));
  }
  for (const d of dirs) {
    // On the thread pool: this runs on the event loop, and a folder's fsync can take most of a
    // second under load (errno.ts).
    await fsyncDirAsync(d).catch(() => {
      // The folder may be gone (retention removed it): nothing left to make durable.
    });
  }
  catalog.forget(paths);
  return paths.length;
}

export interface MergeChoice {
  /** Merge only when at least this many files qualify (default 2). */
  readonly minFiles?: number;
  /** Which files qualify (default all), e.g. the small ones of today's open partition. */
  readonly pick?: (f: FileInfo) => boolean;
  /** Rows of one merge at most (default no bound); see compactPartition. */
  readonly maxRows?: number;
  /** Leave out older files that outgrew the newer ones (withoutGrown; default false). */
  readonly skipGrown?: boolean;
}

/**
 * Merge one partition's files (or only those `pick` selects, so a growing day is not rewritten
 * whole every time). Null when fewer than `minFiles` files qualify or the partition is busy. With
 * `maxRows`, only the oldest qualifying files whose rows fit in it are merged (two at least): the
 * worker holds every source row in memory at once, so this bounds one merge's memory (in the
 * max-rate end-to-end run, merging a minute of one symbol at once, ~1.4 M rows, lifted K2's RSS
 * from ~300 MB to 660–1,150 MB).
 */
export async function compactPartition(
  deps: MaintenanceDeps,
  p: { readonly table: TableName; readonly symbol: string; readonly date: string },
  choice: MergeChoice = {},
): Promise<CompactionOutcome | null> {
  const { minFiles = 2, pick = () => true, maxRows = Number.POSITIVE_INFINITY, skipGrown = false } = choice;
  const { catalog, pool } = deps;
  const busy = compacting.get(catalog) ?? new Set<string>();
  compacting.set(catalog, busy);
  const k = `${p.table}/${p.date}/${p.symbol}`;
  if (busy.has(k)) return null;
  const all = catalog.files({ table: p.table, symbol: p.symbol, date: p.date }).filter(pick);
  const picked = skipGrown ? withoutGrown(all) : all;
  if (picked.length < Math.max(1, minFiles)) return null;
  const sources = oldestWithin(picked, maxRows);
  busy.add(k);
  try {
    const { info: merged, duplicatesDropped } = await pool.compact({
      ...p,
      sources: sources.map((f) => f.path),
    });
    if (!catalog.swap(sources, merged)) {
      // A source left the catalog meanwhile (retention): the merged file must not appear.
      await unlink(merged.path).catch(() => undefined);
      return null;
    }
    await catalog.whenUnpinned(
      sources.map((f) => f.path),
      deps.pinTimeoutMs ?? 10_000,
    );
    const deleted = await deleteRetired(catalog);
    return { merged, replaced: sources, duplicatesDropped, deleted };
  } finally {
    busy.delete(k);
  }
}

/**
 * Drop the oldest files (sorted by time) while each holds more rows than all the newer ones
 * together. Without this, the open day's merged file stays "small" for a while and is rewritten
 * whole by every pass that merges the next few hundred rows into it: at 100 trades/s per symbol
 * and 32 one-second files per merge, every row was rewritten ~8 times before its file grew out of
 * "small" (this rule alone did not lower the worker's memory peaks in the 1-hour soak: those were
 * the garbage of a pass's merges, now collected after each, see worker.ts). With the rule a
 * merged file is merged again only once newer files hold as many rows as it does (a binary
 * counter): ~3 rewrites per row and log2 more files per partition at most.
 */
function withoutGrown(files: readonly FileInfo[]): readonly FileInfo[] {
  let newer = 0;
  for (const f of files) newer += f.rows;
  let from = 0;
  while (from < files.length) {
    const f = files[from]!;
    newer -= f.rows;
    if (f.rows <= newer) break;
    from++;
  }
  return from === 0 ? files : files.slice(from);
}

/** The first files (sorted by time) whose rows fit in `maxRows`, two at least. */
function oldestWithin(files: readonly FileInfo[], maxRows: number): readonly FileInfo[] {
  let n = 0;
  let rows = 0;
  while (n < files.length && (n < 2 || rows + files[n]!.rows <= maxRows)) rows += files[n++]!.rows;
  return files.slice(0, n);
}

/** Merges of one partition in one pass at most (each takes ≥ 2 files away, so it also ends). */
const MAX_MERGES_PER_PARTITION = 1000;

export interface SmallFilePolicy {
  /** Merge a partition's small files only when at least this many qualify (K2_COMPACT_MIN_FILES). */
  readonly minFiles: number;
  /** A file is small below this many rows (the pipeline: half of K2_BATCH_MAX_ROWS). */
  readonly smallerThanRows: number;
  /**
   * Rows of one merge at most (the pipeline: K2_BATCH_MAX_ROWS, a full batch's file): a partition
   * with more small rows is merged in several files, one at a time, each within this bound.
   */
  readonly maxMergedRows?: number;
}

/**
 * Merge the small files of every partition, today's open one included. Small files are batches
 * cut by the flush interval, not by size; full-size files are left alone, so a growing day is
 * not rewritten whole on every maintenance pass (closed days are merged into bigger files later,
 * by compactClosedPartitions).
 */
export async function compactSmallFiles(
  deps: MaintenanceDeps,
  policy: SmallFilePolicy,
): Promise<CompactionOutcome[]> {
  const small = (f: FileInfo) => f.rows < policy.smallerThanRows;
  const out: CompactionOutcome[] = [];
  for (const part of deps.catalog.partitions()) {
    if (part.files < policy.minFiles) continue; // cannot have enough small ones: skip the listing
    const maxRows = policy.maxMergedRows ?? Number.POSITIVE_INFINITY;
    out.push(
      ...(await mergeWhilePicked(deps, part, {
        minFiles: policy.minFiles,
        pick: small,
        maxRows,
        skipGrown: true,
      })),
    );
  }
  return out;
}

/** Bounded merges of the files `choice` picks, one after another, until too few are left. */
async function mergeWhilePicked(
  deps: MaintenanceDeps,
  part: { readonly table: TableName; readonly symbol: string; readonly date: string },
  choice: MergeChoice,
): Promise<CompactionOutcome[]> {
  const out: CompactionOutcome[] = [];
  for (let i = 0; i < MAX_MERGES_PER_PARTITION; i++) {
    const r = await compactPartition(deps, part, choice);
    if (!r) break;
    out.push(r);
  }
  return out;
}

/**
 * Rows of one closed-day merge at most. The writer's worker holds a merge's rows in memory, so a
 * whole busy day merged at once (millions of rows: minutes of the max-rate end-to-end run) took
 * RSS to gigabytes; a day with more rows than this ends as several files of about this size.
 */
export const CLOSED_MERGE_MAX_ROWS = 1_000_000;

/**
 * Compact every closed partition (UTC date before today's) with at least `minFiles` files: its
 * files under half of `maxRows` are merged, oldest first, into files of at most `maxRows` rows.
 */
export async function compactClosedPartitions(
  deps: MaintenanceDeps,
  nowUs: number,
  minFiles = 2,
  maxRows = CLOSED_MERGE_MAX_ROWS,
): Promise<CompactionOutcome[]> {
  const today = dayOfUs(nowUs);
  const small = (f: FileInfo) => f.rows < maxRows / 2;
  const out: CompactionOutcome[] = [];
  for (const part of deps.catalog.partitions()) {
    if ((dayOfDate(part.date) ?? today) >= today || part.files < minFiles) continue;
    out.push(...(await mergeWhilePicked(deps, part, { minFiles, pick: small, maxRows })));
  }
  return out;
}
