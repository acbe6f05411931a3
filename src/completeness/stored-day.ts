/**
 * What K2 stores of one (table, symbol, UTC day), read straight from the data dir (not the
 * in-memory catalog, so a file deleted behind K2's back is noticed): row count, id range, the id
 * ranges missing inside it, and the canonical SHA-256 (canonical.ts).
 *
 * Partitions are by event time, the day is by trade time (as the archive's days are): a trade at
 * 23:59:59.999 may be in the next day's partition, so the neighbouring partitions are read too
 * and rows are filtered on trade_time_us.
 */
import { scanPartition } from "../catalog/scan.ts";
import { type Duck, isVanishedFileError } from "../query/duck.ts";
import { dateOfDay, dayOfDate, US_PER_DAY } from "../sink/parquet/layout.ts";
import { CanonicalHash, type CertTable } from "./canonical.ts";

/** Ids hashed per DuckDB round trip: bounds memory on a busy day (millions of rows). */
const HASH_PAGE_IDS = 200_000;
/** Missing ranges listed at most (a day torn to pieces is incomplete either way). */
export const MAX_MISSING_RANGES = 1000;

export interface StoredDay {
  readonly files: readonly string[];
  /** A fingerprint of the files read (paths and row counts): equal → the same stored rows. */
  readonly fingerprint: string;
  readonly rows: number;
  readonly distinct_ids: number;
  readonly first_id: number | null;
  readonly last_id: number | null;
  /** Inclusive id ranges between first_id and last_id that no stored row has. */
  readonly missing: [number, number][];
  readonly sha256: string;
  /** Files the scan could not read (damaged footers): the day cannot be complete. */
  readonly problems: string[];
}

const ID: Record<CertTable, string> = { trades: "trade_id", agg_trades: "agg_trade_id" };

/** Listings tried when compaction or retention deletes a listed file before DuckDB opens it. */
const READ_ATTEMPTS = 5;

/**
 * The day as the files on disk hold it. K2 may compact the partition meanwhile: a file listed and
 * then deleted before DuckDB opened it means the listing is stale, so list again (bounded).
 */
export async function readStoredDay(
  duck: Duck,
  dataDir: string,
  table: CertTable,
  symbol: string,
  date: string,
): Promise<StoredDay> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce(duck, dataDir, table, symbol, date);
    } catch (e) {
      if (attempt >= READ_ATTEMPTS || !isVanishedFileError(e)) throw e;
    }
  }
}

async function readOnce(
  duck: Duck,
  dataDir: string,
  table: CertTable,
  symbol: string,
  date: string,
): Promise<StoredDay> {
  const day = dayOfDate(date);
  if (day === null) throw new RangeError(`date '${date}': expected YYYY-MM-DD`);
  const files: string[] = [];
  const problems: string[] = [];
  const parts: string[] = [];
  for (const d of [day - 1, day, day + 1]) {
    const scan = await scanPartition(dataDir, { table, date: dateOfDay(d), symbol });
    for (const f of scan.visible) {
      files.push(f.path);
      parts.push(`${f.name}:${f.rows}`);
    }
    for (const p of scan.problems)
      if (p.kind === "unreadable" || p.kind === "mismatch") problems.push(p.message);
  }
  const fingerprint = new Bun.CryptoHasher("sha256").update(parts.sort().join("\n")).digest("hex");
  const fromUs = day * US_PER_DAY;
  const toUs = fromUs + US_PER_DAY;
  const empty = { files, fingerprint, rows: 0, distinct_ids: 0, first_id: null, last_id: null, missing: [] };
  if (files.length === 0) return { ...empty, sha256: new CanonicalHash(table).hex(), problems };
  const id = ID[table];
  const from = "FROM read_parquet($1::VARCHAR[], hive_partitioning = false)";
  const where = "WHERE symbol = $2 AND trade_time_us >= $3 AND trade_time_us < $4";
  const base = [{ files }, { text: symbol }, { tsUs: fromUs }, { tsUs: toUs }] as const;
  const s = await duck.query(
    `SELECT count(*) AS n, count(DISTINCT ${id}) AS d, min(${id}) AS lo, max(${id}) AS hi ${from} ${where}`,
    [...base],
  );
  const rows = Number(s.data[0]![0] ?? 0);
  if (rows === 0) return { ...empty, sha256: new CanonicalHash(table).hex(), problems };
  const lo = Number(s.data[2]![0]);
  const hi = Number(s.data[3]![0]);
  const gaps = await duck.query(
    `SELECT id + 1 AS f, nxt - 1 AS l FROM (SELECT id, lead(id) OVER (ORDER BY id) AS nxt FROM ` +
      `(SELECT DISTINCT ${id} AS id ${from} ${where})) WHERE nxt > id + 1 ORDER BY f LIMIT ${MAX_MISSING_RANGES}`,
    [...base],
  );
  const missing: [number, number][] = gaps.data[0]!.map((f, i) => [Number(f), Number(gaps.data[1]![i])]);
  const hash = new CanonicalHash(table);
  const cols =
    table === "trades"
      ? `${id}, price, quantity, 0 AS f, 0 AS l`
      : `${id}, price, quantity, first_trade_id, last_trade_id`;
  const page = `SELECT ${cols}, epoch_us(trade_time_us) AS t, is_buyer_maker ${from} ${where} AND ${id} BETWEEN $5 AND $6 ORDER BY ${id}, price, quantity, t`;
  for (let p = lo; p <= hi; p += HASH_PAGE_IDS) {
    const c = await duck.query(page, [...base, { int: p }, { int: Math.min(hi, p + HASH_PAGE_IDS - 1) }]);
    const [ids, prices, qtys, fs, ls, ts, ms] = c.data as [
      number[],
      bigint[],
      bigint[],
      number[],
      number[],
      number[],
      boolean[],
    ];
    for (let i = 0; i < c.length; i++)
      hash.add(ids[i]!, prices[i]!, qtys[i]!, fs[i]!, ls[i]!, ts[i]!, ms[i]!);
  }
  return {
    files,
    fingerprint,
    rows,
    distinct_ids: Number(s.data[1]![0]),
    first_id: lo,
    last_id: hi,
    missing,
    sha256: hash.hex(),
    problems,
  };
}
