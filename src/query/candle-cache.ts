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
  /** File path → its keys (one per interval), so a deleted file's entries can go at once. */
  readonly #byPath = new Map<string, Set<string>>();
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
    this.#remove(key);
    this.#entries.set(key, Object.freeze(partials));
    this.#held += partials.length;
    const path = pathOf(key);
    let keys = this.#byPath.get(path);
    if (!keys) {
      keys = new Set();
      this.#byPath.set(path, keys);
    }
    keys.add(key);
    for (const k of this.#entries.keys()) {
      if (this.#held <= this.#max) break;
      this.#remove(k);
      this.evicted++;
    }
  }

  /**
   * Forget the entries of files that no longer exist (compaction merged them, retention removed
   * them): without this they stayed until LRU eviction, growing the cache by every small file
   * ever queried, up to the capacity.
   */
  dropFiles(paths: readonly string[]): number {
    let n = 0;
    for (const p of paths) {
      const keys = this.#byPath.get(p);
      if (!keys) continue;
      for (const k of [...keys]) {
        this.#remove(k);
        n++;
      }
    }
    return n;
  }

  /** Entries held (for tests and metrics). */
  get entries(): number {
    return this.#entries.size;
  }

  #remove(key: string): void {
    const v = this.#entries.get(key);
    if (v === undefined) return;
    this.#entries.delete(key);
    this.#held -= v.length;
    const path = pathOf(key);
    const keys = this.#byPath.get(path);
    keys?.delete(key);
    if (keys?.size === 0) this.#byPath.delete(path);
  }
}

/** A fresh copy, so merging never touches a cached partial. */
/** The path part of a key (see CandleCache.key: the path comes last and may itself hold '|'). */
function pathOf(key: string): string {
  let at = -1;
  for (let i = 0; i < 4; i++) at = key.indexOf("|", at + 1);
  return key.slice(at + 1);
}

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
