/**
 * Files another process committed into this data folder — `k2 backfill` (src/backfill/), whose
 * file names end in `-<writer>.parquet` with the writer tag `backfill` — join the running
 * process's catalog here: the hand-over of a second process's files. The owner runs it from its
 * maintenance pass (one job at a time, so never beside its own compaction of the same folder).
 *
 * Only names with that tag are considered: the owner's own files are added when it commits them,
 * and a file the owner compacted away or expired stays on disk until deleted; listing those
 * again would bring them back. A path is adopted once per process (`seen`): after it was
 * compacted into a bigger file it is not picked up again before its deletion.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { type FileInfo, PARQUET_EXT, readFileInfo } from "../sink/parquet/index.ts";
import type { Catalog } from "./catalog.ts";
import { listPartitions } from "./scan.ts";

/** The writer tag `k2 backfill` puts in its file names. */
export const BACKFILL_WRITER = "backfill";
const SUFFIX = `-${BACKFILL_WRITER}${PARQUET_EXT}`;

/** Add every backfill file on disk the catalog lacks; returns the files added. */
export async function adoptBackfillFiles(
  catalog: Catalog,
  dataDir: string,
  seen: Set<string>,
): Promise<FileInfo[]> {
  const added: FileInfo[] = [];
  for (const p of await listPartitions(dataDir)) {
    const dir = join(dataDir, p.table, `date=${p.date}`, `symbol=${p.symbol}`);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // removed since the listing (retention)
    }
    for (const name of names) {
      if (!name.endsWith(SUFFIX) || name.startsWith(".")) continue;
      const path = join(dir, name);
      if (seen.has(path)) continue;
      seen.add(path);
      if (catalog.files({ table: p.table, symbol: p.symbol, date: p.date }).some((f) => f.path === path))
        continue;
      try {
        const info = await readFileInfo(path);
        if (info.table !== p.table || info.date !== p.date || info.symbol !== p.symbol) continue;
        catalog.add(info);
        added.push(info);
      } catch {
        seen.delete(path); // vanished or unreadable now: look again next pass
      }
    }
  }
  return added;
}
