/**
 * Rebuild the catalog from disk: walk `<dataDir>/<table>/date=…/symbol=…/`, read each visible
 * file's footer, and honour `k2.replaces` (a compacted file hides the files it merged, which a
 * crash may have left behind). Dot-files (`.tmp-*`, being written or abandoned) are skipped and
 * reported; files that fail to parse are reported, never fatal.
 */
import { readdir, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TABLE_NAMES, type TableName } from "../model/index.ts";
import {
  type FileInfo,
  isVisibleParquetName,
  ParquetSinkError,
  type PartitionKey,
  parsePartition,
  readFileInfo,
  TEMP_PREFIX,
} from "../sink/parquet/index.ts";
import { Catalog } from "./catalog.ts";

export interface ScanProblem {
  readonly path: string;
  readonly kind: "unreadable" | "mismatch" | "temp" | "stray";
  readonly message: string;
}

export interface PartitionScan {
  /** Files a reader should use (superseded ones removed). */
  readonly visible: FileInfo[];
  /** Files a present compacted file replaces: safe to delete. */
  readonly superseded: FileInfo[];
  readonly problems: ScanProblem[];
}

const SCAN_ATTEMPTS = 5;

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return [];
    throw err;
  }
}

/**
 * One partition, as a directory-listing reader must see it: files listed, footers read,
 * superseded files dropped. If a listed file vanishes before its footer is read (compaction or
 * retention deleting it) the listing is stale, so list again (bounded), rather than return a
 * set that could miss rows.
 */
export async function scanPartition(
  dataDir: string,
  p: PartitionKey,
  known?: ReadonlyMap<string, FileInfo>,
): Promise<PartitionScan> {
  const dir = join(dataDir, p.table, `date=${p.date}`, `symbol=${p.symbol}`);
  for (let attempt = 1; ; attempt++) {
    const problems: ScanProblem[] = [];
    const infos: FileInfo[] = [];
    let vanished = false;
    for (const name of await list(dir)) {
      const path = join(dir, name);
      if (name.startsWith(TEMP_PREFIX)) {
        problems.push({ path, kind: "temp", message: "temporary file of an unfinished write" });
        continue;
      }
      if (!isVisibleParquetName(name)) continue;
      try {
        // A committed file never changes under its name: a footer read before is still right.
        const info = known?.get(path) ?? (await readFileInfo(path));
        if (info.table !== p.table || info.date !== p.date || info.symbol !== p.symbol) {
          problems.push({
            path,
            kind: "mismatch",
            message: `holds ${info.table}/${info.date}/${info.symbol}`,
          });
          continue;
        }
        infos.push(info);
      } catch (err) {
        if (err instanceof ParquetSinkError && err.kind === "missing" && attempt < SCAN_ATTEMPTS) {
          vanished = true;
          break;
        }
        problems.push({
          path,
          kind: "unreadable",
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
    if (vanished) continue;
    const replaced = new Set(infos.flatMap((f) => f.replaces));
    return {
      visible: infos.filter((f) => !replaced.has(f.name)),
      superseded: infos.filter((f) => replaced.has(f.name)),
      problems,
    };
  }
}

/** Every partition folder under dataDir; stray entries are reported. */
export async function listPartitions(dataDir: string, problems: ScanProblem[] = []): Promise<PartitionKey[]> {
  const out: PartitionKey[] = [];
  for (const table of await list(dataDir)) {
    if (!(TABLE_NAMES as readonly string[]).includes(table)) continue;
    for (const dateSeg of await list(join(dataDir, table))) {
      if (dateSeg.startsWith(".")) continue;
      for (const symbolSeg of await list(join(dataDir, table, dateSeg))) {
        if (symbolSeg.startsWith(".")) continue;
        const key = parsePartition(table, dateSeg, symbolSeg);
        if (key) out.push(key);
        else
          problems.push({
            path: join(dataDir, table, dateSeg, symbolSeg),
            kind: "stray",
            message: "not a partition folder",
          });
      }
    }
  }
  return out;
}

/**
 * Paths of the files a reader should use for one table (optionally one symbol), as K2's own scan
 * lists them: the sources a merged file replaces are left out. A compaction stopped between its
 * write and its deletes, or a source still pinned by a reader, leaves both on disk, so a plain
 * glob would count their rows twice. For readers outside K2 (tests, soak, benches).
 */
export async function visibleFilePaths(
  dataDir: string,
  select: { readonly table: TableName; readonly symbol?: string },
): Promise<string[]> {
  const files: string[] = [];
  for (const p of await listPartitions(dataDir)) {
    if (p.table !== select.table || (select.symbol !== undefined && p.symbol !== select.symbol)) continue;
    for (const f of (await scanPartition(dataDir, p)).visible) files.push(f.path);
  }
  return files;
}

export interface RebuildOptions {
  /** Delete files a compacted file replaces (left by a crash between rename and delete). */
  readonly removeSuperseded?: boolean;
  /** Delete `.tmp-*` files: only safe when no writer runs (i.e. at start). */
  readonly removeTemp?: boolean;
  /** Footers already read, by path: a listing repeated every second reads only new files. */
  readonly known?: ReadonlyMap<string, FileInfo>;
}

export interface RebuildResult {
  readonly catalog: Catalog;
  readonly problems: ScanProblem[];
  readonly superseded: string[];
  /** Every file found, visible or superseded, by path (the next rebuild's `known`). */
  readonly infos: Map<string, FileInfo>;
}

export async function rebuildCatalog(dataDir: string, opts: RebuildOptions = {}): Promise<RebuildResult> {
  const catalog = new Catalog();
  const problems: ScanProblem[] = [];
  const superseded: string[] = [];
  const infos = new Map<string, FileInfo>();
  for (const p of await listPartitions(dataDir, problems)) {
    const scan = await scanPartition(dataDir, p, opts.known);
    for (const f of scan.visible) {
      catalog.add(f);
      infos.set(f.path, f);
    }
    for (const f of scan.superseded) {
      infos.set(f.path, f);
      superseded.push(f.path);
      if (opts.removeSuperseded) await unlink(f.path).catch(() => undefined);
    }
    for (const pr of scan.problems) {
      problems.push(pr);
      if (pr.kind === "temp" && opts.removeTemp) await unlink(pr.path).catch(() => undefined);
    }
  }
  return { catalog, problems, superseded, infos };
}

/** Remove a partition folder and its date folder when empty (retention). Missing is fine. */
export async function removeEmptyDirs(dataDir: string, p: PartitionKey): Promise<void> {
  const dateDir = join(dataDir, p.table, `date=${p.date}`);
  await rmdir(join(dateDir, `symbol=${p.symbol}`)).catch(() => undefined);
  await rmdir(dateDir).catch(() => undefined);
}
