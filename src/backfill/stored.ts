/**
 * Which ids of one archive day K2 already stores: the exactly-once check of a backfill. Read
 * from the data folder when the job starts (not from a catalog built at the run's start), so
 * rows the live process or an earlier, interrupted backfill committed since are seen.
 *
 * A day's archive rows carry trade times inside that day; stored rows are partitioned by event
 * time, which on the live path is a few ms after the trade time, so a trade from the day's last
 * seconds can sit in the next day's partition: that partition's early files are read too.
 */
import { scanPartition } from "../catalog/index.ts";
import { readWhileFilesVanish } from "../catalog/vanished.ts";
import { TABLE_ID_COLUMN, type TableName } from "../model/index.ts";
import { dateOfDay, dayOfDate, type FileInfo, readStoredIds, US_PER_DAY } from "../sink/parquet/index.ts";

/** How far past midnight the next day's files may hold the day's trades (event − trade time). */
const NEXT_DAY_SLACK_US = 60_000_000;

export class StoredIds {
  private constructor(
    /** Sorted, distinct. */
    private readonly ids: Float64Array,
  ) {}

  static of(ids: Iterable<number>): StoredIds {
    const a = Float64Array.from(new Set(ids));
    a.sort();
    return new StoredIds(a);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Binary search; ids outside [min, max] answer at once (the usual case for days before live data). */
  has(id: number): boolean {
    const a = this.ids;
    let hi = a.length - 1;
    if (hi < 0 || id < a[0]! || id > a[hi]!) return false;
    let lo = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else return true;
    }
    return false;
  }
}

/** Visible files of the day's partition and the next day's first minute. */
export async function filesNearDay(
  dataDir: string,
  table: TableName,
  symbol: string,
  date: string,
): Promise<FileInfo[]> {
  const day = dayOfDate(date);
  if (day === null) throw new RangeError(`not a date: ${date}`);
  const today = await scanPartition(dataDir, { table, symbol, date });
  const next = await scanPartition(dataDir, { table, symbol, date: dateOfDay(day + 1) });
  const cut = (day + 1) * US_PER_DAY + NEXT_DAY_SLACK_US;
  return [...today.visible, ...next.visible.filter((f) => f.minEventTimeUs < cut)];
}

export async function storedIdsNearDay(
  dataDir: string,
  table: TableName,
  symbol: string,
  date: string,
): Promise<StoredIds> {
  return storedIdsNearDays(dataDir, table, symbol, [date]);
}

/** Listings tried when a listed file vanishes before it is read (see storedIdsNearDays). */
/**
 * The stored ids of several days at once (a monthly file's): one sorted set, 8 bytes per id
 * stored in those days. Ids are unique across days, so one set answers for every row.
 * Beside a running K2 a listed file can vanish before it is read: its compaction commits the
 * merged file and then deletes the sources. The merged file holds the same ids, so the days are
 * listed and read again (catalog/vanished.ts); any other read error is the caller's.
 */
export async function storedIdsNearDays(
  dataDir: string,
  table: TableName,
  symbol: string,
  dates: readonly string[],
  read: (path: string, idColumn: string) => Promise<BigInt64Array> = readStoredIds,
): Promise<StoredIds> {
  return readWhileFilesVanish(
    () => readNearDays(dataDir, table, symbol, dates, read),
    (e) => (e as { code?: unknown }).code === "ENOENT",
  );
}

async function readNearDays(
  dataDir: string,
  table: TableName,
  symbol: string,
  dates: readonly string[],
  read: (path: string, idColumn: string) => Promise<BigInt64Array>,
): Promise<StoredIds> {
  const ids: number[] = [];
  const seen = new Set<string>();
  for (const date of dates)
    for (const f of await filesNearDay(dataDir, table, symbol, date)) {
      if (seen.has(f.path)) continue; // the next day's files are also that day's own
      seen.add(f.path);
      for (const raw of await read(f.path, TABLE_ID_COLUMN[table])) ids.push(Number(raw));
    }
  return StoredIds.of(ids);
}
