/**
 * Row queries (trades, agg_trades, quotes): cold rows from the catalog's files through DuckDB,
 * hot rows from memory, merged by id. The split point is the highest id in any visible file:
 * cold serves ids ≤ it, hot serves ids above it, so the boundary has no gap and no duplicate.
 * Paging is keyed on the id (unique per table and symbol), so a cursor never skips or repeats.
 */
import { EXCHANGE_BINANCE, TABLE_COLUMNS, TABLE_ID_COLUMN, type TableName } from "../model/tables.ts";
import type { Duck, Param } from "./duck.ts";
import { type HotRing, type HotWindow, hotValue } from "./hot.ts";
import type { RowCache } from "./row-cache.ts";
import { emptyFrame, type FileInfo, type FileSource, type Frame, type Order, TIME_COLUMN } from "./types.ts";

export interface RowQuery {
  readonly table: TableName;
  readonly symbol: string;
  readonly fromUs?: number;
  readonly toUs?: number;
  readonly limit: number;
  readonly order: Order;
  /** Exclusive id bound from a cursor: ids above it (asc) or below it (desc). */
  readonly cursorId?: number;
}

export interface RowResult {
  readonly frame: Frame;
  /** Id to resume after, when more rows may follow. */
  readonly nextCursorId: number | null;
  readonly hotRows: number;
  readonly coldRows: number;
  /** True when the hot window evicted ids no visible file holds yet: a hole may exist. */
  readonly incomplete: boolean;
  /**
   * Set when the page came from memory alone: the rowStamp taken in the same synchronous step as
   * the read. While rowStamp returns the same text, the same query returns the same page.
   */
  readonly stamp?: string;
}

/**
 * What a page read from memory alone depends on: the ring's contents (every accepted row bumps
 * `appended`) and the highest stored id (where memory takes over from files, and whether the
 * page is incomplete). Pages with stored rows get no stamp: retention may delete their files.
 */
export function rowStamp(
  source: FileSource,
  hot: HotWindow,
  table: TableName,
  symbol: string,
): string | undefined {
  const ring = hot.ring(table, symbol);
  return ring ? `${ring.appended}:${source.maxId(table, symbol) ?? -1}` : undefined;
}

/** Snapshot taken synchronously: the file list and the hot split point agree with each other. */
export interface Snapshot {
  readonly files: readonly FileInfo[];
  readonly coldMaxId: number;
  /**
   * Ids ≤ splitId are read from files, ids above it from memory. It is coldMaxId, or lower when
   * the ring is complete below coldMaxId (rows already in files but still in memory): then the
   * newest rows, the common query of a live system, need no file at all (last-100 trades: ~40 ms
   * from DuckDB vs ~0.1 ms from memory, native-bench/query-latency.ts).
   */
  readonly splitId: number;
  readonly ring: HotRing | undefined;
  readonly incomplete: boolean;
  /** Unpin the listed files; call in `finally` once every cold read is done. Idempotent. */
  release(): void;
}

export function snapshot(source: FileSource, hot: HotWindow, q: Omit<RowQuery, "limit" | "order">): Snapshot {
  const coldMaxId = source.maxId(q.table, q.symbol) ?? -1;
  const ring = hot.ring(q.table, q.symbol);
  const complete = ring?.completeFromId ?? -1;
  const splitId = complete >= 0 ? Math.min(coldMaxId, complete - 1) : coldMaxId;
  // Listed on first use (a page served from memory lists none). Listing later is safe: every cold
  // query is bounded by id ≤ splitId, and files only appear or merge, never lose visible ids.
  // Pinned as they are listed (same synchronous step), so none can be deleted before release.
  let files: readonly FileInfo[] | undefined;
  let unpin: (() => void) | undefined;
  return {
    get files() {
      if (!files) {
        files = source.files(q);
        unpin = source.pin?.(files.map((f) => f.path));
      }
      return files;
    },
    release() {
      unpin?.();
    },
    coldMaxId,
    splitId,
    ring,
    incomplete: ring !== undefined && ring.evictedMaxId > coldMaxId,
  };
}

/** Hot ring slots matching `q` with id > splitId, in `q.order`, at most `max`. */
export function hotSlots(snap: Snapshot, q: RowQuery, max: number): number[] {
  const r = snap.ring;
  const out: number[] = [];
  if (!r || max <= 0) return out;
  const lowId =
    q.order === "asc" && q.cursorId !== undefined ? Math.max(q.cursorId, snap.splitId) : snap.splitId;
  let start = r.firstAbove(lowId);
  let end = q.order === "desc" && q.cursorId !== undefined ? r.firstAbove(q.cursorId - 1) : r.size;
  // Times ascend with ids (trades): bisect the time range instead of scanning the whole ring.
  if (r.timeSorted) {
    if (q.fromUs !== undefined) start = Math.max(start, r.firstAtOrAfterTime(q.fromUs));
    if (q.toUs !== undefined) end = Math.min(end, r.firstAtOrAfterTime(q.toUs));
  }
  const inRange = (s: number) =>
    (q.fromUs === undefined || r.timeUs[s]! >= q.fromUs) &&
    (q.toUs === undefined || r.timeUs[s]! < q.toUs) &&
    (q.order === "asc" || q.cursorId === undefined || r.id[s]! < q.cursorId);
  if (q.order === "asc") {
    for (let k = start; k < end && out.length < max; k++) if (inRange(r.at(k))) out.push(r.at(k));
  } else {
    for (let k = end - 1; k >= start && out.length < max; k--) if (inRange(r.at(k))) out.push(r.at(k));
  }
  return out;
}

export function pushHotRows(
  frame: Frame,
  table: TableName,
  symbol: string,
  r: HotRing,
  slots: readonly number[],
): void {
  frame.columns.forEach((c, i) => {
    const col = frame.data[i]!;
    for (const s of slots) col.push(hotValue(table, symbol, r, s, c.name));
  });
  frame.length += slots.length;
}

/** The SELECT list that turns stored columns into engine values (µs times as BIGINT). */
export function selectList(table: TableName): string {
  return TABLE_COLUMNS[table]
    .filter((c) => c.name !== "exchange" && c.name !== "symbol")
    .map((c) => (c.type === "timestamp_us" ? `epoch_us(${c.name}) AS ${c.name}` : c.name))
    .join(", ");
}

/** WHERE clause and params shared by row and OHLCV queries; `$1` is always the file list. */
export function coldWhere(
  q: { table: TableName; fromUs?: number; toUs?: number },
  files: readonly FileInfo[],
  maxId: number,
): { where: string; params: Param[] } {
  const idCol = TABLE_ID_COLUMN[q.table];
  const timeCol = TIME_COLUMN[q.table];
  const params: Param[] = [{ files: files.map((f) => f.path) }, { int: maxId }];
  const parts = [`${idCol} <= $2`];
  if (q.fromUs !== undefined) {
    params.push({ tsUs: q.fromUs });
    parts.push(`${timeCol} >= $${params.length}`);
  }
  if (q.toUs !== undefined) {
    params.push({ tsUs: q.toUs });
    parts.push(`${timeCol} < $${params.length}`);
  }
  return { where: parts.join(" AND "), params };
}

/** `read_parquet` over the bound file list only; hive columns off (the files carry symbol). */
export const FROM_FILES = "FROM read_parquet($1::VARCHAR[], hive_partitioning = false)";

/**
 * Ids are dense per symbol, so the `n` rows nearest the starting id usually lie within a few × n
 * ids of it. A first probe bounded to that id window lets DuckDB skip every other row group by
 * its statistics (last-100 over a 3M-row day: one row group instead of all, see
 * native-bench/query-latency.ts); if the window held too few rows, the query runs unbounded.
 */
const PROBE_FACTOR = 4;

async function coldRows(
  duck: Duck,
  snap: Snapshot,
  q: RowQuery,
  frame: Frame,
  n: number,
  beforeCold?: (files: readonly FileInfo[]) => void,
  cache?: RowCache,
): Promise<number> {
  if (n <= 0 || snap.splitId < 0) return 0;
  // Ascending past the split (a cursor into memory): no stored row can follow.
  if (q.order === "asc" && q.cursorId !== undefined && q.cursorId >= snap.splitId) return 0;
  if (snap.files.length === 0) return 0;
  let minFileId = Number.POSITIVE_INFINITY;
  let maxFileId = Number.NEGATIVE_INFINITY;
  for (const f of snap.files) {
    if (f.minId < minFileId) minFileId = f.minId;
    if (f.maxId > maxFileId) maxFileId = f.maxId;
  }
  maxFileId = Math.min(snap.splitId, maxFileId);
  if (minFileId > snap.splitId) return 0;
  const from =
    q.order === "asc"
      ? Math.max(minFileId - 1, q.cursorId ?? -1)
      : Math.min(maxFileId + 1, q.cursorId ?? Number.MAX_SAFE_INTEGER);
  const probe = q.order === "asc" ? from + PROBE_FACTOR * n : from - PROBE_FACTOR * n;
  const probeUseful =
    (q.order === "asc" ? probe < maxFileId : probe > minFileId) && !timeCutsStart(snap.files, q, from);
  if (probeUseful) {
    const res = await coldSelect(duck, snap, q, n, probe, beforeCold, cache);
    if (res && res.length === n) return pushCold(frame, q, res);
  }
  const res = await coldSelect(duck, snap, q, n, undefined, beforeCold, cache);
  return res ? pushCold(frame, q, res) : 0;
}

/**
 * Whether the time bound on the side a page starts from cuts into the file holding the starting
 * id: the rows just past `from` may then all be outside the range, and an id-window probe would
 * come back short, costing a second query (a 1-hour range in the middle of a one-file day ran
 * both: native-bench/query-latency.ts). The unbounded SELECT prunes row groups by time instead.
 */
function timeCutsStart(files: readonly FileInfo[], q: RowQuery, from: number): boolean {
  const bound = q.order === "asc" ? q.fromUs : q.toUs;
  if (bound === undefined) return false;
  for (const f of files) {
    if (q.order === "asc" ? f.maxId <= from : f.minId >= from) continue; // wholly before the start
    if (q.order === "asc" ? f.minEventUs < bound : f.maxEventUs >= bound) return true;
  }
  return false;
}

/**
 * One bounded SELECT; null when no file can hold an id in the window. Only files whose id range
 * meets the window are passed: DuckDB opens every file it is given (footer and all), so a probe
 * over the newest ids of a day of small files reads one or two files, not all of them.
 */
async function coldSelect(
  duck: Duck,
  snap: Snapshot,
  q: RowQuery,
  n: number,
  probe: number | undefined,
  beforeCold: ((files: readonly FileInfo[]) => void) | undefined,
  cache: RowCache | undefined,
) {
  const idCol = TABLE_ID_COLUMN[q.table];
  const asc = q.order === "asc";
  // The window (idLo, idHi] this query can return.
  let idLo = Number.NEGATIVE_INFINITY;
  let idHi = snap.splitId;
  if (asc) {
    if (q.cursorId !== undefined) idLo = q.cursorId;
    if (probe !== undefined) idHi = Math.min(idHi, probe);
  } else {
    if (q.cursorId !== undefined) idHi = Math.min(idHi, q.cursorId - 1);
    if (probe !== undefined) idLo = probe - 1;
  }
  const files = snap.files.filter((f) => f.maxId > idLo && f.minId <= idHi);
  if (files.length === 0) return null;
  beforeCold?.(files);
  // The id bound is cut to the files' own highest id: no row lies above it, and a bound that
  // followed the split changed with every new file, so a page over unchanged files (a day's first
  // page) never met its cached result again and the row cache filled with dead entries.
  let top = Number.NEGATIVE_INFINITY;
  for (const f of files) if (f.maxId > top) top = f.maxId;
  const { where, params } = coldWhere(q, files, Math.min(idHi, top));
  let sql = `SELECT ${selectList(q.table)} ${FROM_FILES} WHERE ${where}`;
  if (q.cursorId !== undefined) {
    params.push({ int: q.cursorId });
    sql += ` AND ${idCol} ${asc ? ">" : "<"} $${params.length}`;
  }
  if (probe !== undefined) {
    params.push({ int: probe });
    sql += ` AND ${idCol} ${asc ? "<=" : ">="} $${params.length}`;
  }
  params.push({ int: n });
  sql += ` ORDER BY ${idCol} ${asc ? "ASC" : "DESC"} LIMIT $${params.length}`;
  return cache ? cache.query(duck, sql, params) : duck.query(sql, params);
}

function pushCold(frame: Frame, q: RowQuery, res: Awaited<ReturnType<Duck["query"]>>): number {
  let src = 0;
  frame.columns.forEach((c, i) => {
    const col = frame.data[i]!;
    if (c.name === "exchange" || c.name === "symbol") {
      const v = c.name === "exchange" ? EXCHANGE_BINANCE : q.symbol;
      for (let r = 0; r < res.length; r++) col.push(v);
      return;
    }
    for (const v of res.data[src++]!) col.push(v);
  });
  frame.length += res.length;
  return res.length;
}

/** Rows of one table and symbol, merged hot + cold, one page of `q.limit`. */
export async function queryRows(
  duck: Duck,
  source: FileSource,
  hot: HotWindow,
  q: RowQuery,
  beforeCold?: (files: readonly FileInfo[]) => void,
  cache?: RowCache,
): Promise<RowResult> {
  // Taken before any await: when an ascending page reads memory after its cold await, the stamp
  // is older than the rows, so the page can only miss later (`appended` never goes back), never
  // be served for a state it does not show.
  const stamp = rowStamp(source, hot, q.table, q.symbol);
  const snap = snapshot(source, hot, q);
  const want = q.limit + 1; // one extra row tells whether a next page exists
  const frame = emptyFrame(TABLE_COLUMNS[q.table]);
  let hotN = 0;
  let coldN = 0;
  try {
    if (q.order === "asc") {
      coldN = await coldRows(duck, snap, q, frame, want, beforeCold, cache);
      const slots = hotSlots(snap, q, want - coldN);
      if (snap.ring) pushHotRows(frame, q.table, q.symbol, snap.ring, slots);
      hotN = slots.length;
    } else {
      const slots = hotSlots(snap, q, want);
      if (snap.ring) pushHotRows(frame, q.table, q.symbol, snap.ring, slots);
      hotN = slots.length;
      coldN = await coldRows(duck, snap, q, frame, want - hotN, beforeCold, cache);
    }
  } finally {
    snap.release();
  }
  let nextCursorId: number | null = null;
  if (frame.length > q.limit) {
    for (const col of frame.data) col.length = q.limit;
    frame.length = q.limit;
    const idIdx = frame.columns.findIndex((c) => c.name === TABLE_ID_COLUMN[q.table]);
    nextCursorId = frame.data[idIdx]![q.limit - 1] as number;
  }
  const result = { frame, nextCursorId, hotRows: hotN, coldRows: coldN, incomplete: snap.incomplete };
  return coldN === 0 && stamp !== undefined ? { ...result, stamp } : result;
}
