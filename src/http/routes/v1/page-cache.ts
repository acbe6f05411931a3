/**
 * Encoded row pages served from memory, kept as the bytes sent, so a page asked for again (the
 * newest trades polled by many clients) skips the query, the row objects and JSON.stringify.
 *
 * Why a cached page stays right: an entry carries the engine's rowStamp from when its rows were
 * read (query/rows.ts); a hit needs the stamp of now to be the same text, and every accepted row
 * or newly visible file changes it. Pages holding stored rows get no stamp and are never cached.
 *
 * Why: `/v1/trades?symbol=BTCUSDT&limit=100&order=desc` spent ~40 % of K2's CPU building row
 * objects and stringifying them (bun --cpu-prof under autocannon), and served ~0.2× what a plain
 * Bun.serve answering the same bytes does (native-bench/api-throughput.ts).
 *
 * Bounded by bytes (bodies and their gzip twins), least recently used first; a page over a quarter of the capacity is sent
 * but not kept (counted as refused).
 *
 * Dead pages go at once, not at eviction: a scope's stamp (one table and symbol) only moves
 * forward, so a page whose stamp is not its scope's current one can never be sent again. Without
 * this, clients whose query strings never repeat (a moving `start=`) filled the capacity with
 * such pages.
 */
import { gzip } from "./encoding.ts";

export interface CachedPage {
  readonly stamp: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly meta: string;
  readonly nextCursor: string | null;
  /** The body gzipped, made on the first request that asks for it (PageCache#gzipped). */
  gzip?: Uint8Array;
  /** The table and symbol it was read from, set when the cache keeps it. */
  scope?: string;
}

const size = (p: CachedPage) => p.body.length + (p.gzip?.length ?? 0);

export class PageCache {
  /** Map order is recency: a hit re-inserts its key at the end. */
  readonly #entries = new Map<string, CachedPage>();
  /** Per scope: the stamp its kept pages were read at, and their keys. */
  readonly #scopes = new Map<string, { stamp: string; keys: Set<string> }>();
  #bytes = 0;
  hits = 0;
  misses = 0;
  evicted = 0;
  refused = 0;

  /** `maxBytes` of bodies held at most; 0 turns the cache off. */
  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** The page for `key` when it was read at `stamp` (the engine's stamp now); else undefined. */
  get(key: string, stamp: string | undefined): CachedPage | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined || hit.stamp !== stamp) {
      this.misses++;
      if (hit !== undefined && stamp !== undefined) this.#remove(key, hit); // dead: see above
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  /** The page's body gzipped, compressed once per page; its bytes count while the page is kept. */
  gzipped(key: string, page: CachedPage): Uint8Array {
    if (page.gzip) return page.gzip;
    page.gzip = gzip(page.body);
    if (this.#entries.get(key) === page) this.#bytes += page.gzip.length;
    return page.gzip;
  }

  /**
   * Keep `page`, read from `scope` (its table and symbol), whose stamp is `current` now. The
   * scope's pages of other stamps leave; a page already older than `current` is not kept.
   */
  set(key: string, page: CachedPage, scope: string, current: string | undefined): void {
    if (this.maxBytes === 0) return;
    const old = this.#entries.get(key);
    if (old) this.#remove(key, old);
    let kept = this.#scopes.get(scope);
    if (kept !== undefined && kept.stamp !== current) {
      for (const k of kept.keys) this.#remove(k, this.#entries.get(k));
      kept = undefined;
    }
    if (page.stamp !== current) return;
    if (page.body.length > this.maxBytes / 4) {
      this.refused++;
      return;
    }
    if (kept === undefined) {
      kept = { stamp: current, keys: new Set() };
      this.#scopes.set(scope, kept);
    }
    kept.keys.add(key);
    page.scope = scope;
    this.#entries.set(key, page);
    this.#bytes += size(page);
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#remove(k, e);
      this.evicted++;
    }
  }

  #remove(key: string, page: CachedPage | undefined): void {
    if (page === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= size(page);
    const kept = page.scope === undefined ? undefined : this.#scopes.get(page.scope);
    kept?.keys.delete(key);
    if (kept?.keys.size === 0) this.#scopes.delete(page.scope as string);
  }
}
