/**
 * The query stage's vocabulary: what it needs from the catalog (FileSource), and the columnar
 * Frame every query returns and every HTTP format serializes. Values stay exact from Parquet to
 * the wire: decimals are bigint scaled by 1e8, ids and µs times are integers held in numbers.
 */
import type { ColumnDef, TableName } from "../model/tables.ts";

/** One visible Parquet file, as the catalog knows it. */
export interface FileInfo {
  readonly path: string;
  /** Min/max of the table's time column (TIME_COLUMN[table]) in the file, µs since epoch. */
  readonly minEventUs: number;
  readonly maxEventUs: number;
  /** Min/max of the table's id column (TABLE_ID_COLUMN[table]). */
  readonly minId: number;
  readonly maxId: number;
  readonly rows: number;
}

export interface FileQuery {
  readonly table: TableName;
  readonly symbol: string;
  /** Inclusive lower and exclusive upper bound on the time column; absent = unbounded. */
  readonly fromUs?: number;
  readonly toUs?: number;
}

export interface Coverage {
  readonly table: TableName;
  readonly symbol: string;
  readonly firstUs: number;
  readonly lastUs: number;
  readonly minId: number;
  readonly maxId: number;
  readonly rows: number;
  readonly files: number;
}

/**
 * The narrow view of the catalog the engine needs. `files` must return only visible (complete,
 * renamed) files that may hold rows of `q`; `maxId` is the highest id in any visible file of the
 * table and symbol regardless of time, which is where the hot window takes over.
 */
export interface FileSource {
  files(q: FileQuery): readonly FileInfo[];
  maxId(table: TableName, symbol: string): number | undefined;
  coverage(): readonly Coverage[];
  /**
   * Keep `paths` on disk until the returned function runs. Called in the same synchronous step
   * as `files()`, so a compaction that retires them afterwards waits for the query to finish.
   * Optional: a source whose files are never deleted (tests, a read-only folder) needs none.
   */
  pin?(paths: readonly string[]): () => void;
  /**
   * List the folder again now: a listed file was gone when DuckDB opened it (a query node cannot
   * pin another process's files; the writer deletes a replaced file after its grace period).
   * Optional: a source that pins never sees that.
   */
  relist?(): Promise<void>;
}

/** The column a table's time range filters and orders on. */
export const TIME_COLUMN: Readonly<Record<TableName, string>> = {
  trades: "trade_time_us",
  agg_trades: "trade_time_us",
  quotes: "event_time_us",
  book_deltas: "event_time_us",
  book_snapshots: "snapshot_time_us",
  book_checkpoints: "checkpoint_time_us",
};

/** A column-major result: data[c][r] is column c of row r; null marks a missing value. */
export interface Frame {
  readonly columns: readonly ColumnDef[];
  readonly data: (number | bigint | string | boolean | null)[][];
  length: number;
}

export function emptyFrame(columns: readonly ColumnDef[]): Frame {
  return { columns, data: columns.map(() => []), length: 0 };
}

export type Order = "asc" | "desc";

/** Typed failures the HTTP layer maps to status codes in one place. */
export type QueryErrorKind = "bad_request" | "unknown_symbol" | "too_many_rows" | "range_too_large" | "busy";
export class QueryError extends Error {
  constructor(
    readonly kind: QueryErrorKind,
    message: string,
    readonly field?: string,
    readonly limit?: number,
  ) {
    super(message);
  }
}
