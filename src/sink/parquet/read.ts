/**
 * Read K2 Parquet files back with hyparquet: columns under their stored names, exact. hyparquet
 * turns DECIMAL into float64 and TIMESTAMP into Date, both lossy, so we hand it a copy of the
 * footer schema without those annotations and get the raw int64 (scaled decimals, µs) instead.
 * Used by tests, WAL replay (which ids are stored) and compaction (inside the writer worker).
 */
import { open, readFile } from "node:fs/promises";
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadata,
  parquetMetadataAsync,
  parquetRead,
} from "hyparquet";
import { ParquetSinkError, toParquetError } from "./errors.ts";
import { type FileInfo, fileInfoFromKv } from "./meta.ts";
import { deltaColumnsF64 } from "./read-delta.ts";

/** Stored column values: int64 (ids, scaled decimals, µs times) as BigInt64Array. */
export type StoredColumn = BigInt64Array | string[] | boolean[];

export interface StoredColumns {
  readonly info: FileInfo;
  readonly numRows: number;
  readonly columns: Readonly<Record<string, StoredColumn>>;
}

export type StoredRow = Record<string, bigint | string | boolean>;

const compressors = { ZSTD: (input: Uint8Array, outputLength: number) => decompress(input, outputLength) };

function decompress(input: Uint8Array, outputLength: number): Uint8Array {
  const out = Bun.zstdDecompressSync(input);
  if (out.length !== outputLength)
    throw new Error(`zstd page is ${out.length} bytes, header says ${outputLength}`);
  return out;
}

function kvMap(md: FileMetaData): Map<string, string> {
  return new Map((md.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
}

/** Footer only: a few KB read from the end of the file. Throws ParquetSinkError. */
export async function readFileInfo(path: string): Promise<FileInfo> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, "r");
    const { size } = await fh.stat();
    const h = fh;
    const buf: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end?: number) {
        const len = (end ?? size) - start;
        const out = new Uint8Array(len);
        const { bytesRead } = await h.read(out, 0, len, start);
        if (bytesRead !== len) throw new Error(`short read at ${start}: ${bytesRead}/${len}`);
        return out.buffer;
      },
    };
    const md = await parquetMetadataAsync(buf);
    return fileInfoFromKv(path, kvMap(md), size, Number(md.num_rows));
  } catch (err) {
    throw asReadError(path, err);
  } finally {
    await fh?.close();
  }
}

function asReadError(path: string, err: unknown): ParquetSinkError {
  if (err instanceof ParquetSinkError) return err;
  if ((err as { code?: unknown })?.code !== undefined) return toParquetError("read", path, err);
  const detail = err instanceof Error ? err.message : String(err);
  return new ParquetSinkError({
    kind: "corrupt",
    op: "read",
    message: `${path}: not a readable Parquet file: ${detail}`,
  });
}

/** Drop DECIMAL and TIMESTAMP annotations so hyparquet returns raw int64. */
function rawSchema(md: FileMetaData): FileMetaData {
  return {
    ...md,
    schema: md.schema.map((el) => {
      const lt = el.logical_type?.type;
      if (el.converted_type !== "DECIMAL" && lt !== "TIMESTAMP") return el;
      const { converted_type: _c, logical_type: _l, scale: _s, precision: _p, ...rest } = el;
      return rest;
    }),
  };
}

/** Decode a whole file already in memory. */
export async function decodeParquet(
  path: string,
  bytes: Uint8Array,
  columns?: string[],
): Promise<StoredColumns> {
  return (await decode(path, bytes, columns, false)) as StoredColumns;
}

/** A column as compaction reads it: ids and times that K2 wrote itself come as float64. */
export type MergeColumn = StoredColumn | Float64Array;

export interface MergeColumns {
  readonly info: FileInfo;
  readonly numRows: number;
  readonly columns: Readonly<Record<string, MergeColumn>>;
}

/**
 * Every column of a file for a merge: the int64 delta columns decoded by K2 (read-delta.ts: no
 * BigInt per value), the rest, and any chunk K2 did not write in its own shape, by hyparquet.
 */
export function decodeForMerge(path: string, bytes: Uint8Array): Promise<MergeColumns> {
  return decode(path, bytes, undefined, true);
}

async function decode(
  path: string,
  bytes: Uint8Array,
  columns: string[] | undefined,
  ownDelta: boolean,
): Promise<MergeColumns> {
  try {
    // A whole-file read owns its buffer: no copy (a merge reads up to 32 files; each copy was garbage).
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const ab = (
      whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    ) as ArrayBuffer;
    const md = parquetMetadata(ab);
    const info = fileInfoFromKv(path, kvMap(md), bytes.byteLength, Number(md.num_rows));
    const numRows = info.rows;
    const out: Record<string, MergeColumn> = {};
    let select = columns;
    if (ownDelta) {
      for (const [name, col] of deltaColumnsF64(bytes, md, numRows, decompress)) out[name] = col;
      const names = (md.row_groups[0]?.columns ?? []).map(
        (cc) => cc.meta_data?.path_in_schema.join(".") ?? "",
      );
      select = names.filter((n) => n !== "" && out[n] === undefined);
      if (select.length === 0) return { info, numRows, columns: out };
    }
    await parquetRead({
      file: { byteLength: ab.byteLength, slice: (s, e) => ab.slice(s, e) },
      metadata: rawSchema(md),
      compressors,
      ...(select ? { columns: select } : {}),
      onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
        let col = out[columnName];
        if (col === undefined) {
          const first = columnData[0];
          col = typeof first === "bigint" ? new BigInt64Array(numRows) : new Array(numRows);
          out[columnName] = col;
        }
        for (let i = rowStart; i < rowEnd; i++) col[i] = columnData[i - rowStart] as never;
      },
    });
    return { info, numRows, columns: out };
  } catch (err) {
    throw asReadError(path, err);
  }
}

/** Read a whole file's columns (or the listed ones). */
export async function readParquetColumns(path: string, columns?: string[]): Promise<StoredColumns> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw toParquetError("read", path, err);
  }
  return decodeParquet(path, bytes, columns);
}

/** Row objects (tests, small files): `{ trade_id: 1n, price: 6500001000000n, side: "BUY", … }`. */
export async function readParquetRows(path: string): Promise<StoredRow[]> {
  const { numRows, columns } = await readParquetColumns(path);
  const names = Object.keys(columns);
  const rows: StoredRow[] = new Array(numRows);
  for (let i = 0; i < numRows; i++) {
    const r: StoredRow = {};
    for (const n of names) r[n] = columns[n]![i]!;
    rows[i] = r;
  }
  return rows;
}

/** The stored ids of a file (WAL replay: which ids are already on disk). */
export async function readStoredIds(path: string, idColumn: string): Promise<BigInt64Array> {
  const { columns } = await readParquetColumns(path, [idColumn]);
  const ids = columns[idColumn];
  if (!(ids instanceof BigInt64Array)) {
    throw new ParquetSinkError({
      kind: "corrupt",
      op: "read",
      message: `${path}: id column ${idColumn} missing or not int64`,
    });
  }
  return ids;
}
