/**
 * The data dir as a directory-listing reader sees it, for tests: partition folders, file id
 * ranges from the names (<minId>-<maxId>-<writtenAtMs>-<seq>.parquet), and the `k2.replaces` a
 * compacted file's footer carries (read with hyparquet, not K2's reader).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";

export interface PartitionFile {
  name: string;
  path: string;
  temp: boolean;
  minId: number;
  maxId: number;
}

const NAME = /^(\.tmp-)?(\d+)-(\d+)-(\d+)-(\d+)\.parquet(?:\.partial)?$/;

/** Folders `<table>/date=…/symbol=…` under dataDir, as paths relative to it. */
export function partitionDirs(dataDir: string, tables = ["trades", "agg_trades", "quotes"]): string[] {
  const out: string[] = [];
  for (const t of tables) {
    const tdir = join(dataDir, t);
    if (!existsSync(tdir)) continue;
    for (const d of readdirSync(tdir).filter((n) => n.startsWith("date="))) {
      for (const s of safeList(join(tdir, d)).filter((n) => n.startsWith("symbol="))) out.push(join(t, d, s));
    }
  }
  return out.sort();
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // removed between listings (retention)
  }
}

export function partitionFiles(dir: string): PartitionFile[] {
  const out: PartitionFile[] = [];
  for (const name of safeList(dir)) {
    const m = NAME.exec(name);
    if (m) out.push({ name, path: join(dir, name), temp: !!m[1], minId: Number(m[2]), maxId: Number(m[3]) });
  }
  return out;
}

/**
 * Names listed in a file's `k2.replaces` footer entry (empty for a file that merged nothing, or
 * one a running K2's compaction deleted since the folder was listed: ENOENT only).
 */
export function footerReplaces(path: string): string[] {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return [];
    throw e;
  }
  const meta = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  const kv = meta.key_value_metadata?.find((e) => e.key === "k2.replaces");
  return kv?.value ? (JSON.parse(kv.value) as string[]) : [];
}

/**
 * Files whose id range covers at least two other visible files of the same partition: a merge in
 * progress (a `.tmp-` file being written) or done but not yet cleaned up (sources still present).
 */
export function mergesInFlight(dir: string): { file: PartitionFile; covers: PartitionFile[] }[] {
  const files = partitionFiles(dir);
  const visible = files.filter((f) => !f.temp);
  const out: { file: PartitionFile; covers: PartitionFile[] }[] = [];
  for (const f of files) {
    const covers = visible.filter((v) => v !== f && f.minId <= v.minId && v.maxId <= f.maxId);
    if (covers.length >= 2) out.push({ file: f, covers });
  }
  return out;
}
