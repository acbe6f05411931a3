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
}

const size = (p: CachedPage) => p.body.length + (p.gzip?.length ?? 0);

export class PageCache {
  /** Map order is recency: a hit re-inserts its key at the end. */
  readonly #entries = new Map<string, CachedPage>();
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
    const hit = stamp === undefined ? undefined : this.#entries.get(key);
    if (hit === undefined || hit.stamp !== stamp) {
      this.misses++;
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

  set(key: string, page: CachedPage): void {
    if (this.maxBytes === 0) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= size(old);
    }
    if (page.body.length > this.maxBytes / 4) {
      this.refused++;
      return;
    }
    this.#entries.set(key, page);
    this.#bytes += size(page);
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= size(e);
      this.evicted++;
    }
  }
}
