/**
 * OHLCV candles from trades, aligned to UTC (every interval divides a day and the epoch starts at
 * midnight UTC, so floor(time / interval) * interval is aligned). DuckDB aggregates the cold rows,
 * JS the hot rows above the split id, and the two partials merge per bucket before rounding.
 *
 * Exactness: volume is Σ quantity (exact at 8 places). quote_volume is Σ price × quantity, exact at
 * 16 places, then rounded half-up to 8. vwap is (Σ price × quantity) / (Σ quantity) computed as an
 * integer division of the exact sums, rounded half-up to 8 places. No float is ever involved.
 */
import type { ColumnDef } from "../model/tables.ts";
import type { Duck } from "./duck.ts";
import type { HotWindow } from "./hot.ts";
import { coldWhere, FROM_FILES, snapshot } from "./rows.ts";
import { emptyFrame, type Frame } from "./types.ts";

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

/** Per-bucket partials over [fromUs, toUs), cold then hot, ascending by bucket. */
export async function ohlcvPartials(
  duck: Duck,
  source: Parameters<typeof snapshot>[0],
  hot: HotWindow,
  q: { symbol: string; interval: Interval; fromUs?: number; toUs?: number; maxBuckets: number },
): Promise<{ partials: CandlePartial[]; incomplete: boolean }> {
  const snap = snapshot(source, hot, { table: "trades", symbol: q.symbol, fromUs: q.fromUs, toUs: q.toUs });
  const iv = INTERVAL_US[q.interval];
  const byBucket = new Map<number, CandlePartial>();
  const out: CandlePartial[] = [];
  if (snap.files.length > 0 && snap.coldMaxId >= 0) {
    const { where, params } = coldWhere({ table: "trades", ...q }, snap.files, snap.coldMaxId);
    params.push({ int: iv });
    const ivp = `$${params.length}`;
    params.push({ int: q.maxBuckets });
    const sql =
      `SELECT (epoch_us(trade_time_us) // ${ivp}) * ${ivp} AS b, arg_min(price, trade_id) AS o, max(price) AS h, ` +
      "min(price) AS l, arg_max(price, trade_id) AS c, sum(quantity) AS v, sum(price::DECIMAL(38, 8) * quantity) AS qv, " +
      `count(*) AS n, min(trade_id) AS f, max(trade_id) AS t ${FROM_FILES} WHERE ${where} ` +
      `GROUP BY b ORDER BY b LIMIT $${params.length}`;
    const r = await duck.query(sql, params);
    if (r.scales[6] !== 16 || r.scales[5] !== 8) throw new Error(`unexpected decimal scales ${r.scales}`);
    const d = r.data;
    for (let i = 0; i < r.length; i++) {
      const p: CandlePartial = {
        bucketUs: d[0]![i] as number,
        open: d[1]![i] as bigint,
        high: d[2]![i] as bigint,
        low: d[3]![i] as bigint,
        close: d[4]![i] as bigint,
        volume8: d[5]![i] as bigint,
        quote16: d[6]![i] as bigint,
        count: d[7]![i] as number,
        firstId: d[8]![i] as number,
        lastId: d[9]![i] as number,
      };
      out.push(p);
      byBucket.set(p.bucketUs, p);
    }
  }
  const r = snap.ring;
  if (r) {
    for (let k = r.firstAbove(snap.coldMaxId); k < r.size; k++) {
      const s = r.at(k);
      const t = r.timeUs[s]!;
      if ((q.fromUs !== undefined && t < q.fromUs) || (q.toUs !== undefined && t >= q.toUs)) continue;
      const b = Math.floor(t / iv) * iv;
      const price = r.dec[0][s]!;
      const qty = r.dec[1][s]!;
      const id = r.id[s]!;
      const p = byBucket.get(b);
      if (!p) {
        const np: CandlePartial = {
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
        };
        byBucket.set(b, np);
        out.push(np);
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
  out.sort((a, b) => a.bucketUs - b.bucketUs);
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
