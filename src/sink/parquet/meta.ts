/**
 * FileInfo: what the catalog knows about one visible file. Built by the writer after a commit,
 * or from a file's footer key-value metadata when the catalog is rebuilt from disk; both paths
 * must give equal objects (the catalog rebuild test compares them).
 */
import { basename } from "node:path";
import { TABLE_NAMES, type TableName } from "../../model/index.ts";
import { ParquetSinkError } from "./errors.ts";
import { META, READABLE_SCHEMA_VERSIONS } from "./schema.ts";

export interface FileInfo {
  readonly path: string;
  readonly name: string;
  readonly table: TableName;
  readonly exchange: string;
  readonly symbol: string;
  readonly date: string;
  readonly rows: number;
  readonly bytes: number;
  readonly minEventTimeUs: number;
  readonly maxEventTimeUs: number;
  readonly minId: number;
  readonly maxId: number;
  /** Names of files in the same partition this (compacted) file replaces; usually empty. */
  readonly replaces: readonly string[];
}

function int(kv: ReadonlyMap<string, string>, key: string, path: string): number {
  const v = kv.get(key);
  const n = v === undefined ? Number.NaN : Number(v);
  if (!Number.isSafeInteger(n)) {
    throw new ParquetSinkError({
      kind: "corrupt",
      op: "read_meta",
      message: `${path}: metadata ${key}=${v} is not an integer`,
    });
  }
  return n;
}

function str(kv: ReadonlyMap<string, string>, key: string, path: string): string {
  const v = kv.get(key);
  if (v === undefined || v === "") {
    throw new ParquetSinkError({
      kind: "corrupt",
      op: "read_meta",
      message: `${path}: metadata ${key} missing`,
    });
  }
  return v;
}

/** FileInfo from footer key-value metadata; throws a typed "corrupt" error when it is not K2's. */
export function fileInfoFromKv(
  path: string,
  kv: ReadonlyMap<string, string>,
  bytes: number,
  numRows: number,
): FileInfo {
  const version = int(kv, META.schemaVersion, path);
  if (!READABLE_SCHEMA_VERSIONS.includes(version)) {
    throw new ParquetSinkError({
      kind: "corrupt",
      op: "read_meta",
      message: `${path}: k2.schema_version ${version}, this build reads ${READABLE_SCHEMA_VERSIONS.join(", ")} (written by a later K2?)`,
    });
  }
  const table = str(kv, META.table, path);
  if (!(TABLE_NAMES as readonly string[]).includes(table)) {
    throw new ParquetSinkError({
      kind: "corrupt",
      op: "read_meta",
      message: `${path}: unknown table ${table}`,
    });
  }
  const rows = int(kv, META.rows, path);
  if (rows !== numRows) {
    throw new ParquetSinkError({
      kind: "corrupt",
      op: "read_meta",
      message: `${path}: k2.rows ${rows} ≠ footer rows ${numRows}`,
    });
  }
  let replaces: string[] = [];
  const rep = kv.get(META.replaces);
  if (rep !== undefined) {
    const parsed: unknown = JSON.parse(rep);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) {
      throw new ParquetSinkError({
        kind: "corrupt",
        op: "read_meta",
        message: `${path}: k2.replaces is not a string array`,
      });
    }
    replaces = parsed;
  }
  return {
    path,
    name: basename(path),
    table: table as TableName,
    exchange: str(kv, META.exchange, path),
    symbol: str(kv, META.symbol, path),
    date: str(kv, META.date, path),
    rows,
    bytes,
    minEventTimeUs: int(kv, META.minEventTimeUs, path),
    maxEventTimeUs: int(kv, META.maxEventTimeUs, path),
    minId: int(kv, META.minId, path),
    maxId: int(kv, META.maxId, path),
    replaces,
  };
}
