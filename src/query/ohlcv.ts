/**
 * OHLCV candles from trades, aligned to UTC (every interval divides a day and the epoch starts at
 * midnight UTC, so floor(time / interval) * interval is aligned). DuckDB aggregates the cold rows
 * (per immutable file, cached: candle-cache.ts), JS the hot rows above the highest stored id, and
 * the partials merge per bucket before rounding.
 *
 * Exactness: volume is Σ quantity (exact at 8 places). quote_volume is Σ price × quantity, exact at
 * 16 places, then rounded half-up to 8. vwap is (Σ price × quantity) / (Σ quantity) computed as an
 * integer division of the exact sums, rounded half-up to 8 places. No float is ever involved.
 */
import type { ColumnDef } from "../model/tables.ts";
import { CandleCache, clonePartial, mergeInto } from "./candle-cache.ts";
import type { Columns, Duck, Param } from "./duck.ts";
import type { HotWindow } from "./hot.ts";
import { coldWhere, FROM_FILES, type Snapshot, snapshot } from "./rows.ts";
import { emptyFrame, type FileInfo, type Frame } from "./types.ts";

export const INTERVAL_US = {
  "1s": 1_000_000,
  "1m": 60_000_000,
  "5m": 300_000_000,
  "15m": 900_000_000,
  "30m": 1_800_000_000,
  "1h": 3_600_000_000,
  "4h": 14_400_000_000,
  "1d": 86_400_000_000,
} as const;
export type Interval = keyof typeof INTERVAL_US;
export const INTERVALS = Object.keys(INTERVAL_US) as Interval[];

const col = (name: string, type: ColumnDef["type"]): ColumnDef => ({ name, type });
export const OHLCV_COLUMNS: readonly ColumnDef[] = [
  col("symbol", "string"),
  col("open_time_us", "timestamp_us"),
  col("open", "decimal"),
  col("high", "decimal"),
  col("low", "decimal"),
  col("close", "decimal"),
  col("volume", "decimal"),
  col("quote_volume", "decimal"),
  col("trade_count", "int64"),
  col("vwap", "decimal"),
  col("first_trade_id", "int64"),
  col("last_trade_id", "int64"),
];

/** One bucket before rounding; partials from cold and hot rows merge exactly. */
export interface CandlePartial {
  readonly bucketUs: number;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  /** Σ quantity scaled 1e8 and Σ price × quantity scaled 1e16. */
  volume8: bigint;
  quote16: bigint;
  count: number;
  firstId: number;
  lastId: number;
}

export interface OhlcvQuery {
  readonly symbol: string;
  readonly interval: Interval;
  readonly fromUs?: number;
  readonly toUs?: number;
  readonly limit: number;
  readonly fill: "none" | "previous";
  /** From a cursor: the close before this page, for fill=previous across pages. */
  readonly prevClose?: bigint;
}

export interface OhlcvResult {
  readonly frame: Frame;
  /** Bucket to resume at and the close before it, when more candles may follow. */
  readonly next: { bucketUs: number; prevClose: bigint } | null;
  readonly incomplete: boolean;
}

/** a / b rounded half-up, for non-negative a and positive b. */
export function divRoundHalfUp(a: bigint, b: bigint): bigint {
  return (2n * a + b) / (2n * b);
}

const AGGREGATES =
  "arg_min(price, trade_id) AS o, max(price) AS h, min(price) AS l, arg_max(price, trade_id) AS c, " +
  "sum(quantity) AS v, sum(price::DECIMAL(38, 8) * quantity) AS qv, count(*) AS n, min(trade_id) AS f, " +
  "max(trade_id) AS t";

/**
 * A file is aggregated whole (and cached) when it is small or the query covers most of it; a big
 * file barely touched by the range is read through the time filter instead, so a first query for
 * one hour of a compacted day does not pay for the day.
 */
const WHOLE_FILE_MAX_ROWS = 250_000;
const WHOLE_FILE_MIN_OVERLAP = 0.5;

/** Partials from a result whose columns are [...lead, b, o, h, l, c, v, qv, n, f, t]. */
function readPartials(r: Columns, lead: number, each: (p: CandlePartial, row: number) => void): void {
  if (r.scales[lead + 6] !== 16 || r.scales[lead + 5] !== 8)
    throw new Error(`unexpected decimal scales ${r.scales}`);
  const d = r.data;
  for (let i = 0; i < r.length; i++) {
    each(
      {
        bucketUs: d[lead]![i] as number,
        open: d[lead + 1]![i] as bigint,
        high: d[lead + 2]![i] as bigint,
        low: d[lead + 3]![i] as bigint,
        close: d[lead + 4]![i] as bigint,
        volume8: d[lead + 5]![i] as bigint,
        quote16: d[lead + 6]![i] as bigint,
        count: d[lead + 7]![i] as number,
        firstId: d[lead + 8]![i] as number,
        lastId: d[lead + 9]![i] as number,
      },
      i,
    );
  }
}

/**
 * Per-bucket partials over [fromUs, toUs), ascending by bucket: cold rows per file (cached
 * whole-file partials for the buckets the range covers fully, DuckDB with the time filter for the
 * edge buckets and for files read partially), then hot rows above the highest stored id.
 */
export async function ohlcvPartials(
  duck: Duck,
  source: Parameters<typeof snapshot>[0],
  hot: HotWindow,
  q: { symbol: string; interval: Interval; fromUs?: number; toUs?: number; maxBuckets: number },
  cache?: CandleCache,
): Promise<{ partials: CandlePartial[]; incomplete: boolean }> {
  const snap = snapshot(source, hot, { table: "trades", symbol: q.symbol, fromUs: q.fromUs, toUs: q.toUs });
  try {
    return await partialsOf(duck, snap, q, cache);
  } finally {
    snap.release();
  }
}

async function partialsOf(
  duck: Duck,
  snap: Snapshot,
  q: { symbol: string; interval: Interval; fromUs?: number; toUs?: number; maxBuckets: number },
  cache: CandleCache | undefined,
): Promise<{ partials: CandlePartial[]; incomplete: boolean }> {
  const iv = INTERVAL_US[q.interval];
  const byBucket = new Map<number, CandlePartial>();
  const add = (p: CandlePartial) => {
    const acc = byBucket.get(p.bucketUs);
    if (acc) mergeInto(acc, p);
    else byBucket.set(p.bucketUs, clonePartial(p));
  };
  const from = q.fromUs ?? Number.NEGATIVE_INFINITY;
  const to = q.toUs ?? Number.POSITIVE_INFINITY;
  // Buckets [lo, hi) lie wholly inside the range; the rest of the range is at most two edges.
  const lo = Math.ceil(from / iv) * iv;
  const hi = Math.floor(to / iv) * iv;
  const files = snap.coldMaxId >= 0 ? snap.files : [];
  const whole: FileInfo[] = [];
  const partial: FileInfo[] = [];
  for (const f of files) {
    const span = Math.max(1, f.maxEventUs - f.minEventUs);
    const overlap = (Math.min(f.maxEventUs, to) - Math.max(f.minEventUs, from)) / span;
    const cached = cache?.enabled === true && lo < hi;
    if (cached && (f.rows <= WHOLE_FILE_MAX_ROWS || overlap >= WHOLE_FILE_MIN_OVERLAP)) whole.push(f);
    else partial.push(f);
  }

  if (whole.length > 0 && cache) {
    const missing: FileInfo[] = [];
    const take = (ps: readonly CandlePartial[]) => {
      for (const p of ps) if (p.bucketUs >= lo && p.bucketUs + iv <= hi) add(p);
    };
    for (const f of whole) {
      const ps = cache.get(CandleCache.key(f, iv));
      if (ps) take(ps);
      else missing.push(f);
    }
    if (missing.length > 0) {
      const r = await duck.query(
        `SELECT filename AS file, (epoch_us(trade_time_us) // $2) * $2 AS b, ${AGGREGATES} ` +
          "FROM read_parquet($1::VARCHAR[], hive_partitioning = false, filename = true) GROUP BY file, b ORDER BY file, b",
        [{ files: missing.map((f) => f.path) }, { int: iv }],
      );
      const perFile = new Map<string, CandlePartial[]>(missing.map((f) => [f.path, []]));
      readPartials(r, 1, (p, i) => {
        const list = perFile.get(r.data[0]![i] as string);
        if (!list) throw new Error(`DuckDB named a file it was not given: ${r.data[0]![i]}`);
        list.push(p);
      });
      for (const f of missing) {
        const ps = perFile.get(f.path)!;
        cache.set(CandleCache.key(f, iv), ps);
        take(ps);
      }
    }
    // Edge buckets: only the rows inside the range count, so they are read with the time filter.
    const edges: [number, number][] = [];
    if (from < lo) edges.push([from, Math.min(lo, to)]);
    if (hi < to) edges.push([Math.max(hi, from), to]);
    if (edges.length > 0) {
      const params: Param[] = [{ files: whole.map((f) => f.path) }, { int: iv }];
      const cond = edges.map(([a, b]) => {
        params.push({ tsUs: a }, { tsUs: b });
        return `(trade_time_us >= $${params.length - 1} AND trade_time_us < $${params.length})`;
      });
      const r = await duck.query(
        `SELECT (epoch_us(trade_time_us) // $2) * $2 AS b, ${AGGREGATES} ${FROM_FILES} ` +
          `WHERE ${cond.join(" OR ")} GROUP BY b`,
        params,
      );
      readPartials(r, 0, add);
    }
  }

  if (partial.length > 0) {
    const { where, params } = coldWhere({ table: "trades", ...q }, partial, snap.coldMaxId);
    params.push({ int: iv });
    const ivp = `$${params.length}`;
    params.push({ int: q.maxBuckets });
    const r = await duck.query(
      `SELECT (epoch_us(trade_time_us) // ${ivp}) * ${ivp} AS b, ${AGGREGATES} ${FROM_FILES} WHERE ${where} ` +
        `GROUP BY b ORDER BY b LIMIT $${params.length}`,
      params,
    );
    readPartials(r, 0, add);
  }

  const r = snap.ring;
  if (r) {
    for (let k = r.firstAbove(snap.coldMaxId); k < r.size; k++) {
      const s = r.at(k);
      const t = r.timeUs[s]!;
      if (t < from || t >= to) continue;
      const b = Math.floor(t / iv) * iv;
      const price = r.dec[0][s]!;
      const qty = r.dec[1][s]!;
      const id = r.id[s]!;
      const p = byBucket.get(b);
      if (!p) {
        byBucket.set(b, {
          bucketUs: b,
          open: price,
          high: price,
          low: price,
          close: price,
          volume8: qty,
          quote16: price * qty,
          count: 1,
          firstId: id,
          lastId: id,
        });
        continue;
      }
      // Hot ids are above every cold id and ascend, so this row is the bucket's newest.
      if (price > p.high) p.high = price;
      if (price < p.low) p.low = price;
      p.close = price;
      p.volume8 += qty;
      p.quote16 += price * qty;
      p.count++;
      p.lastId = id;
    }
  }
  const out = [...byBucket.values()].sort((a, b) => a.bucketUs - b.bucketUs);
  return { partials: out, incomplete: snap.incomplete };
}

/** Candles for one page: rounding, fill=previous and the limit applied to the partials. */
export function candles(q: OhlcvQuery, partials: readonly CandlePartial[]): OhlcvResult {
  const iv = INTERVAL_US[q.interval];
  const frame = emptyFrame(OHLCV_COLUMNS);
  const push = (row: (number | bigint | string | null)[]) => {
    row.forEach((v, i) => {
      frame.data[i]!.push(v);
    });
    frame.length++;
  };
  let prevClose = q.prevClose;
  let nextBucket = q.fromUs === undefined ? undefined : Math.ceil(q.fromUs / iv) * iv;
  for (const p of partials) {
    if (q.fill === "previous" && prevClose !== undefined && nextBucket !== undefined) {
      for (let b = nextBucket; b < p.bucketUs; b += iv) {
        if (frame.length === q.limit) return { frame, next: { bucketUs: b, prevClose }, incomplete: false };
        const c = prevClose;
        push([q.symbol, b, c, c, c, c, 0n, 0n, 0, null, null, null]);
      }
    }
    if (frame.length === q.limit)
      return { frame, next: { bucketUs: p.bucketUs, prevClose: prevClose ?? p.open }, incomplete: false };
    const vwap = p.volume8 > 0n ? divRoundHalfUp(p.quote16, p.volume8) : null;
    push([
      q.symbol,
      p.bucketUs,
      p.open,
      p.high,
      p.low,
      p.close,
      p.volume8,
      divRoundHalfUp(p.quote16, 100_000_000n),
      p.count,
      vwap,
      p.firstId,
      p.lastId,
    ]);
    prevClose = p.close;
    nextBucket = p.bucketUs + iv;
  }
  return { frame, next: null, incomplete: false };
}
