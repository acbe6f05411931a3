/**
 * The JSON text of single rows, kept by (table, symbol, id): a stored row never changes under its
 * id (the hot window refuses an id it has seen, and a row in memory is byte-identical to the same
 * row in its file: test/query/fast-paths.test.ts), so its text stays right for good.
 *
 * Why: every accepted trade changes the newest page, so under ingest the page cache
 * (page-cache.ts) misses often; a miss then encodes only the rows it has not sent before (one, at
 * 500 trades/s and thousands of requests per second) instead of all 100 of them
 * (native-bench/api-throughput.ts).
 *
 * Direct-mapped and bounded: `slots` entries (a power of two), a new row replacing whichever row
 * held its slot. Ids of one symbol are consecutive, so the newest `slots` rows never collide.
 */

export class RowTextCache {
  readonly #mask: number;
  readonly #ids: Float64Array;
  readonly #tags: (string | undefined)[];
  readonly #texts: (string | undefined)[];
  hits = 0;
  misses = 0;

  /** `slots`: 0 turns the cache off, else a power of two. */
  constructor(readonly slots: number) {
    if (slots !== 0 && (slots & (slots - 1)) !== 0)
      throw new RangeError(`row text slots must be 0 or a power of two, got ${slots}`);
    this.#mask = slots - 1;
    this.#ids = new Float64Array(slots);
    this.#tags = new Array(slots).fill(undefined);
    this.#texts = new Array(slots).fill(undefined);
  }

  /** Slot of `id` for the rows of `tag` (table and symbol); spreads the tags' id runs apart. */
  #slot(tagHash: number, id: number): number {
    return ((id % 0x40000000) + tagHash) & this.#mask;
  }

  get(tag: string, tagHash: number, id: number): string | undefined {
    if (this.slots === 0) return undefined;
    const s = this.#slot(tagHash, id);
    if (this.#ids[s] === id && this.#tags[s] === tag) {
      this.hits++;
      return this.#texts[s];
    }
    this.misses++;
    return undefined;
  }

  set(tag: string, tagHash: number, id: number, text: string): void {
    if (this.slots === 0) return;
    const s = this.#slot(tagHash, id);
    this.#ids[s] = id;
    this.#tags[s] = tag;
    this.#texts[s] = text;
  }
}

/** A small string hash (FNV-1a), to place one tag's rows away from another's. */
export function tagHash(tag: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
