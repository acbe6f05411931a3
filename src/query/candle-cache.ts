/**
 * Candle partials per (visible Parquet file, interval). A visible file never changes (the sink
 * renames complete files into place; compaction and late gap repairs write new files, which get
 * their own entries), so its per-bucket partials are exact forever: a day of 1-min candles is a
 * merge of cached partials instead of a 3M-row aggregation (~330 ms → ~1 ms, native-bench/
 * query-latency.ts). Bounded by the number of partials held, least recently used out first.
 */
import type { CandlePartial } from "./ohlcv.ts";
import type { FileInfo } from "./types.ts";

export interface CandleCacheOptions {
  /** Partials (buckets) held across all entries (K2_QUERY_CANDLE_CACHE; 0 disables the cache). */
  readonly maxPartials: number;
}

export class CandleCache {
  readonly #entries = new Map<string, readonly CandlePartial[]>();
  readonly #max: number;
  #held = 0;
  hits = 0;
  misses = 0;
  evicted = 0;
  /** Entries not kept because one alone would take more than a quarter of the capacity. */
  refused = 0;

  constructor(opts: CandleCacheOptions) {
    if (!Number.isInteger(opts.maxPartials) || opts.maxPartials < 0)
      throw new RangeError(`candle cache capacity must be an integer ≥ 0, got ${opts.maxPartials}`);
    this.#max = opts.maxPartials;
  }

  get enabled(): boolean {
    return this.#max > 0;
  }

  get size(): number {
    return this.#held;
  }

  /** The identity of a file's content: a rewritten path has other rows or ids, so another key. */
  static key(f: FileInfo, intervalUs: number): string {
    return `${intervalUs}|${f.rows}|${f.minId}|${f.maxId}|${f.path}`;
  }

  get(key: string): readonly CandlePartial[] | undefined {
    const v = this.#entries.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert: Map order is the LRU order.
    this.#entries.delete(key);
    this.#entries.set(key, v);
    return v;
  }

  set(key: string, partials: readonly CandlePartial[]): void {
    if (!this.enabled) return;
    if (partials.length * 4 > this.#max) {
      this.refused++;
      return;
    }
    const old = this.#entries.get(key);
    if (old) {
      this.#held -= old.length;
      this.#entries.delete(key);
    }
    this.#entries.set(key, Object.freeze(partials));
    this.#held += partials.length;
    for (const [k, v] of this.#entries) {
      if (this.#held <= this.#max) break;
      this.#entries.delete(k);
      this.#held -= v.length;
      this.evicted++;
    }
  }
}

/** A fresh copy, so merging never touches a cached partial. */
export function clonePartial(p: CandlePartial): CandlePartial {
  return { ...p };
}

/**
 * Fold `b` into `acc` (same bucket, disjoint rows): open and close follow the lowest and highest
 * trade id, so the result is the same whatever order files are merged in.
 */
export function mergeInto(acc: CandlePartial, b: CandlePartial): void {
  if (b.firstId < acc.firstId) {
    acc.open = b.open;
    acc.firstId = b.firstId;
  }
  if (b.lastId > acc.lastId) {
    acc.close = b.close;
    acc.lastId = b.lastId;
  }
  if (b.high > acc.high) acc.high = b.high;
  if (b.low < acc.low) acc.low = b.low;
  acc.volume8 += b.volume8;
  acc.quote16 += b.quote16;
  acc.count += b.count;
}
