/**
 * The JSON text of single rows, kept as UTF-8 bytes by (table, symbol, id), and the writer that
 * assembles JSON and NDJSON pages from them. A stored row never changes under its id (the hot
 * window refuses an id it has seen, and a row in memory is byte-identical to the same row in its
 * file: test/query/fast-paths.test.ts), so its text stays right for good.
 *
 * Why: every accepted trade changes the newest page, so under ingest the page cache
 * (page-cache.ts) misses often. A miss then encodes only the rows it has not sent before (one, at
 * 500 trades/s and thousands of requests per second) and copies the others' bytes, instead of
 * stringifying 100 row objects and transcoding the joined text to UTF-8 (Buffer.from of a 39 KB
 * string was the largest cost of a miss: bun --cpu-prof, native-bench/api-throughput.ts).
 *
 * Bounded and preallocated: `slots` entries (a power of two) of `SLOT_BYTES` each in one slab;
 * direct-mapped, a new row replacing whichever row held its slot. Ids of one symbol are
 * consecutive, so the newest `slots` rows of one table and symbol never collide. A row longer than
 * a slot is written but not kept.
 */

/** Bytes per slot: a trade row's JSON is ~390 B, a quote's and an aggregate trade's less than 512. */
export const SLOT_BYTES = 512;

export class RowTextCache {
  readonly #mask: number;
  readonly #slab: Uint8Array;
  readonly #lens: Uint16Array;
  readonly #ids: Float64Array;
  readonly #tags: (string | undefined)[];
  hits = 0;
  misses = 0;

  /** `slots`: 0 turns the cache off, else a power of two. */
  constructor(readonly slots: number) {
    if (slots !== 0 && (slots & (slots - 1)) !== 0)
      throw new RangeError(`row text slots must be 0 or a power of two, got ${slots}`);
    this.#mask = slots - 1;
    this.#slab = new Uint8Array(slots * SLOT_BYTES);
    this.#lens = new Uint16Array(slots);
    this.#ids = new Float64Array(slots);
    this.#tags = new Array(slots).fill(undefined);
  }

  /** Slot of `id` for the rows of `tag` (table and symbol); the hash moves tags' id runs apart. */
  #slot(tagHash: number, id: number): number {
    return ((id % 0x40000000) + tagHash) & this.#mask;
  }

  /** Append the kept text of row `id` to `out`; false when it is not kept. */
  copyTo(tag: string, tagHash: number, id: number, out: ByteWriter): boolean {
    if (this.slots === 0) return false;
    const s = this.#slot(tagHash, id);
    if (this.#ids[s] !== id || this.#tags[s] !== tag) {
      this.misses++;
      return false;
    }
    this.hits++;
    const at = s * SLOT_BYTES;
    out.bytes(this.#slab, at, at + this.#lens[s]!);
    return true;
  }

  keep(tag: string, tagHash: number, id: number, text: Uint8Array): void {
    if (this.slots === 0 || text.length > SLOT_BYTES) return;
    const s = this.#slot(tagHash, id);
    this.#slab.set(text, s * SLOT_BYTES);
    this.#lens[s] = text.length;
    this.#ids[s] = id;
    this.#tags[s] = tag;
  }
}

/** A small string hash (FNV-1a), to place one tag's rows away from another's. */
export function tagHash(tag: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Above this the writer's buffer is dropped after use rather than kept for the next page. */
const KEEP_BYTES = 1 << 20;

/**
 * Bytes appended to one reused buffer, grown by doubling; `take` copies out exactly what was
 * written. One per process is enough: a page is written in one synchronous step.
 */
export class ByteWriter {
  #buf = new Uint8Array(64 * 1024);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  bytes(src: Uint8Array, from = 0, to = src.length): void {
    this.#room(to - from);
    this.#buf.set(from === 0 && to === src.length ? src : src.subarray(from, to), this.#len);
    this.#len += to - from;
  }

  /** ASCII text (JSON punctuation), written without an encoder. */
  ascii(s: string): void {
    this.#room(s.length);
    for (let i = 0; i < s.length; i++) this.#buf[this.#len++] = s.charCodeAt(i);
  }

  /** Drop whatever a page that failed half-way left behind. */
  begin(): void {
    this.#len = 0;
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    this.bytes(Buffer.from(s));
  }

  /** What was written, as a new array; the writer is empty again. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    if (this.#buf.length > KEEP_BYTES) this.#buf = new Uint8Array(64 * 1024);
    return out;
  }
}
