/**
 * Results of cold row SELECTs (rows.ts coldSelect), keyed by their SQL text and bound parameters.
 *
 * Why a cached result stays right: every cold row query names its files and its id bound as
 * parameters, and a Parquet file never changes under its path (sink/parquet/layout.ts: names are
 * unique across restarts; a file is written under a temp name and renamed once; compaction and
 * retention write new files or delete old ones). The same SQL over the same paths with the same
 * values therefore returns the same rows. Rows newer than the files come from memory and are
 * merged after the cache, never stored in it.
 *
 * Why: a page asked for again and again (the first page of a symbol, a dashboard polling the same
 * range) cost one DuckDB run each, ~5 ms on one DuckDB thread; under autocannon that capped
 * `/v1/trades?symbol=BTCUSDT&limit=100` at ~200 req/s. Identical queries running at once also share
 * one run instead of queueing for the connections.
 *
 * Bounded by cells (rows × columns, K2_QUERY_ROW_CACHE) and evicted least recently used; a result
 * over a quarter of the capacity is returned but not kept. Entries naming a deleted file are
 * dropped (dropFiles) since no later query can name that file again.
 */
import type { Columns, Duck, Param } from "./duck.ts";

interface Entry {
  readonly result: Promise<Columns>;
  readonly files: readonly string[];
  cells: number;
}

export interface RowCacheOptions {
  /** Cells (rows × columns) held across all entries; 0 turns the cache off. */
  readonly maxCells: number;
}

export class RowCache {
  readonly #max: number;
  /** Map order is recency: a hit re-inserts its key at the end. */
  readonly #entries = new Map<string, Entry>();
  #cells = 0;
  hits = 0;
  misses = 0;
  evicted = 0;

  constructor(opts: RowCacheOptions) {
    this.#max = opts.maxCells;
  }

  /** Cells held now. */
  get cells(): number {
    return this.#cells;
  }

  /**
   * The result of `run` for `key`, from the cache when present (or already running). `files` are
   * the paths the query reads, for dropFiles. A failed run is not kept.
   */
  get(key: string, files: readonly string[], run: () => Promise<Columns>): Promise<Columns> {
    const hit = this.#entries.get(key);
    if (hit) {
      this.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.result;
    }
    this.misses++;
    if (this.#max <= 0) return run();
    const entry: Entry = { result: run(), files, cells: 0 };
    this.#entries.set(key, entry);
    entry.result.then(
      (cols) => {
        if (this.#entries.get(key) !== entry) return; // dropped while running
        const cells = cols.length * Math.max(1, cols.names.length);
        if (cells > this.#max / 4) {
          this.#entries.delete(key);
          return;
        }
        entry.cells = cells;
        this.#cells += cells;
        this.#evict();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry.result;
  }

  /** `duck.query` through the cache; a cold row query's first parameter is its file list. */
  query(duck: Pick<Duck, "query">, sql: string, params: readonly Param[]): Promise<Columns> {
    const first = params[0];
    const files = first !== undefined && "files" in first ? first.files : [];
    return this.get(`${sql}\u0000${JSON.stringify(params)}`, files, () => duck.query(sql, params));
  }

  /** Forget every entry that reads one of `paths` (deleted by compaction or retention). */
  dropFiles(paths: readonly string[]): void {
    if (paths.length === 0 || this.#entries.size === 0) return;
    const gone = new Set(paths);
    for (const [key, e] of this.#entries)
      if (e.files.some((f) => gone.has(f))) {
        this.#entries.delete(key);
        this.#cells -= e.cells;
      }
  }

  #evict(): void {
    // Bounded: each step removes the least recently used entry until the cells fit.
    for (const [key, e] of this.#entries) {
      if (this.#cells <= this.#max) return;
      if (e.cells === 0) continue; // still running: its size is not known yet
      this.#entries.delete(key);
      this.#cells -= e.cells;
      this.evicted++;
    }
  }
}
