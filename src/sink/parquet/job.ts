/**
 * The jobs the writer worker runs, as plain functions of an fs so tests can run them in-process
 * with injected faults. `writeJob`: batch → encoded → committed file. `compactJob`: the files
 * of one partition → one file, rows deduplicated by id and sorted by id, carrying `k2.replaces`.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { TableName } from "../../model/index.ts";
import { allocColumns, type BatchColumns } from "./batch.ts";
import { commitFile } from "./commit.ts";
import { type EncodeOptions, encodeParquet } from "./encode.ts";
import { ParquetSinkError, toParquetError } from "./errors.ts";
import type { ParquetFs } from "./fs.ts";
import { fileName, partitionDir } from "./layout.ts";
import type { FileInfo } from "./meta.ts";
import { decodeForMerge, type MergeColumns } from "./read.ts";
import { FLAG_COLUMNS, isFlagSlot, TABLE_SLOTS } from "./schema.ts";

export interface NameSeed {
  /** Pool start time: makes names unique across restarts. */
  readonly writtenAtMs: number;
  /** Per-pool sequence number. */
  readonly seq: number;
  /** The scale-out writer's id, part of the name (layout.ts); absent in a single process. */
  readonly writer?: string;
}

export interface WriteJob extends NameSeed {
  readonly dataDir: string;
  readonly table: TableName;
  readonly exchange: string;
  readonly symbol: string;
  readonly date: string;
  readonly rows: number;
  readonly columns: BatchColumns;
  readonly replaces?: readonly string[];
}

export function writeJob(fs: ParquetFs, job: WriteJob, opts: EncodeOptions): FileInfo {
  const { bytes, stats } = encodeParquet(job, opts);
  const dir = partitionDir(job.dataDir, job.table, job.date, job.symbol);
  const name = fileName(stats.minId, stats.maxId, job.writtenAtMs, job.seq, job.writer);
  const path = commitFile(fs, dir, name, bytes);
  return {
    path,
    name,
    table: job.table,
    exchange: job.exchange,
    symbol: job.symbol,
    date: job.date,
    rows: stats.rows,
    bytes: bytes.byteLength,
    minEventTimeUs: stats.minEventTimeUs,
    maxEventTimeUs: stats.maxEventTimeUs,
    minId: stats.minId,
    maxId: stats.maxId,
    replaces: job.replaces ?? [],
  };
}

export interface CompactJob extends NameSeed {
  readonly dataDir: string;
  readonly table: TableName;
  readonly symbol: string;
  readonly date: string;
  /** Visible files of that one partition. */
  readonly sources: readonly string[];
}

export interface CompactResult {
  readonly info: FileInfo;
  readonly duplicatesDropped: number;
}

/** Stored columns of one file → batch slots (the inverse of encode's mapping). */
function toBatchColumns(table: TableName, f: MergeColumns, out: BatchColumns, at: number): void {
  const slots = TABLE_SLOTS[table];
  for (const [name, slot] of Object.entries(slots)) {
    const src = f.columns[name];
    if (src === undefined)
      throw new ParquetSinkError({
        kind: "corrupt",
        op: "compact",
        message: `${f.info.path}: column ${name} missing`,
      });
    if (slot === "exchange" || slot === "symbol") continue;
    if (isFlagSlot(slot)) {
      // Each derived column gives back its bits (trades' side and maker flag give the same bit).
      const fc = FLAG_COLUMNS[slot];
      for (let i = 0; i < f.numRows; i++) {
        const v = fc.values.indexOf(src[i] as string | boolean);
        if (v < 0)
          throw new ParquetSinkError({
            kind: "corrupt",
            op: "compact",
            message: `${f.info.path}: ${name} holds ${String(src[i])}, expected one of ${fc.values.join(", ")}`,
          });
        out.flags[at + i]! |= fc.bits[v]!;
      }
    } else if (slot === "dec0" || slot === "dec1" || slot === "dec2" || slot === "dec3") {
      if (src instanceof Float64Array) {
        // A delta-encoded decimal (not K2's own layout): exact integers, see read-delta.ts.
        const dst = out[slot];
        for (let i = 0; i < f.numRows; i++) dst[at + i] = BigInt(src[i]!);
      } else out[slot].set(src as BigInt64Array, at);
    } else if (src instanceof Float64Array) {
      out[slot].set(src, at);
    } else {
      const dst = out[slot];
      for (let i = 0; i < f.numRows; i++) dst[at + i] = Number(src[i] as bigint);
    }
  }
}

/** Keep the first row per id (files in name order = write order), sorted by id. */
function dedupeSorted(
  table: TableName,
  c: BatchColumns,
  rows: number,
): { columns: BatchColumns; rows: number } {
  const id = c.id;
  // Files in write order usually hold ascending, disjoint ids: then the columns are the result
  // and the merge allocates no second copy of them.
  let ascending = true;
  for (let i = 1; i < rows && ascending; i++) ascending = id[i]! > id[i - 1]!;
  if (ascending) return { columns: c, rows };
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  // Ties keep input order: the first written copy of an id wins.
  order.sort((a, b) => id[a]! - id[b]! || a - b);
  let kept = 0;
  let prev = Number.NaN;
  for (let k = 0; k < rows; k++) {
    const i = order[k]!;
    if (id[i] === prev) continue;
    prev = id[i]!;
    order[kept++] = i;
  }
  const out = allocColumns(table, kept);
  for (const slot of Object.keys(out) as (keyof BatchColumns)[]) {
    const src = c[slot] as Float64Array;
    if (src.length === 0) continue;
    const dst = out[slot] as Float64Array;
    for (let k = 0; k < kept; k++) dst[k] = src[order[k]!]!;
  }
  return { columns: out, rows: kept };
}

export async function compactJob(
  fs: ParquetFs,
  job: CompactJob,
  opts: EncodeOptions,
): Promise<CompactResult> {
  const files: MergeColumns[] = [];
  let total = 0;
  let exchange: string | undefined;
  for (const p of job.sources) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(p);
    } catch (err) {
      throw toParquetError("compact_read", p, err);
    }
    const f = await decodeForMerge(p, bytes);
    const { table, symbol, date } = f.info;
    if (table !== job.table || symbol !== job.symbol || date !== job.date) {
      throw new ParquetSinkError({
        kind: "corrupt",
        op: "compact",
        message: `${p} holds ${table}/${date}/${symbol}, not the partition being compacted`,
      });
    }
    exchange ??= f.info.exchange;
    files.push(f);
    total += f.numRows;
  }
  if (files.length === 0 || exchange === undefined) {
    throw new ParquetSinkError({
      kind: "invalid_batch",
      op: "compact",
      message: "compaction needs at least one file",
    });
  }
  const all = allocColumns(job.table, total);
  let at = 0;
  for (const f of files) {
    toBatchColumns(job.table, f, all, at);
    at += f.numRows;
  }
  files.length = 0; // the decoded files are garbage from here on, while the merged file encodes
  const merged = dedupeSorted(job.table, all, total);
  const info = writeJob(
    fs,
    {
      ...job,
      exchange,
      rows: merged.rows,
      columns: merged.columns,
      replaces: job.sources.map((p) => basename(p)),
    },
    opts,
  );
  return { info, duplicatesDropped: total - merged.rows };
}
