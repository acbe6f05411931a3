/**
 * The dead-letter buffer: frames that failed to decode, kept as received (with their status, our
 * receive time and the connection/stream label) until the sink's persister drains them to disk.
 * It is the failure path, so it may allocate and copy; it must stay bounded during a storm of bad
 * frames, hence two bounds, entries and bytes, both from options.
 *
 * When a new frame does not fit, the OLDEST entries are evicted and counted per status
 * (`droppedFromBuffer`). Oldest-first because the persister drains often (sink issue): the
 * buffer only has to hold one persist interval of failures, so it fills only in a storm of bad
 * frames or while the persister is stuck. Then the newest frames show the failure happening now,
 * and the per-status counters (`received`, `droppedFromBuffer`) still account for every frame.
 *
 * Size of an entry = `frame.length`: bytes for a Uint8Array, code units for a string (exact for
 * the ASCII JSON Binance sends; a non-ASCII string may take up to 3 bytes per unit on disk).
 */

/** Statuses are small integers (decode/binance/status.ts uses 0..13); counters index by them. */
export const DEAD_LETTER_MAX_STATUS = 31;
export const DEAD_LETTER_MAX_ENTRIES_DEFAULT = 10_000;
export const DEAD_LETTER_MAX_BYTES_DEFAULT = 16 * 1024 * 1024;

export interface DeadLetterOptions {
  /** Most entries held at once (≥ 1). */
  readonly maxEntries?: number;
  /** Most frame bytes held at once (≥ 1); a longer frame keeps only its first maxBytes. */
  readonly maxBytes?: number;
}

export interface DeadLetterEntry {
  /** The frame as received; a Uint8Array is a private copy, a prefix if `truncated_from` > 0. */
  readonly frame: string | Uint8Array;
  readonly status: number;
  readonly recv_time_us: number;
  /** Connection or stream label, e.g. "conn-3" or "btcusdt@trade"; "" when not given. */
  readonly label: string;
  /** Original length when the frame was longer than maxBytes, else 0. */
  readonly truncated_from: number;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`dead-letter ${name} must be an integer ≥ 1, got ${v}`);
  return v;
}

export class DeadLetterBuffer {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Frames pushed, per status (index = status). */
  readonly received = new Float64Array(DEAD_LETTER_MAX_STATUS + 1);
  /** Entries evicted before the persister drained them, per status: frames lost for good. */
  readonly droppedFromBuffer = new Float64Array(DEAD_LETTER_MAX_STATUS + 1);
  /** Frames kept as a prefix because they alone exceeded maxBytes. */
  truncated = 0;
  /** Entries handed to the persister by drain(). */
  drained = 0;
  // A circular array of entries: #start is the oldest, #count how many are held.
  readonly #slots: (DeadLetterEntry | undefined)[];
  #start = 0;
  #count = 0;
  #bytes = 0;

  constructor(opts: DeadLetterOptions = {}) {
    this.maxEntries = positiveInt("maxEntries", opts.maxEntries ?? DEAD_LETTER_MAX_ENTRIES_DEFAULT);
    this.maxBytes = positiveInt("maxBytes", opts.maxBytes ?? DEAD_LETTER_MAX_BYTES_DEFAULT);
    this.#slots = new Array(this.maxEntries).fill(undefined);
  }

  /** Entries held now. */
  get size(): number {
    return this.#count;
  }

  /** Frame bytes held now (see the module comment for how a string is sized). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Total evicted over all statuses. */
  get droppedTotal(): number {
    let t = 0;
    for (const v of this.droppedFromBuffer) t += v;
    return t;
  }

  /**
   * Keep a failed frame. Evicts the oldest entries (counted) until it fits. Throws RangeError
   * for a status outside 0..DEAD_LETTER_MAX_STATUS (a caller bug, not a data problem).
   */
  push(frame: string | Uint8Array, status: number, recv_time_us: number, label = ""): void {
    if (!Number.isInteger(status) || status < 0 || status > DEAD_LETTER_MAX_STATUS) {
      throw new RangeError(
        `dead-letter status must be an integer 0..${DEAD_LETTER_MAX_STATUS}, got ${status}`,
      );
    }
    let kept: string | Uint8Array = frame;
    let truncatedFrom = 0;
    if (frame.length > this.maxBytes) {
      // One oversized frame must not flush the whole buffer; its prefix shows what it was.
      truncatedFrom = frame.length;
      kept = typeof frame === "string" ? frame.slice(0, this.maxBytes) : frame.slice(0, this.maxBytes);
      this.truncated++;
    } else if (typeof frame !== "string") {
      kept = frame.slice(); // the caller may reuse its buffer
    }
    this.received[status]!++;
    while (this.#count === this.maxEntries || this.#bytes + kept.length > this.maxBytes) this.#evictOldest();
    const end = (this.#start + this.#count) % this.maxEntries;
    this.#slots[end] = { frame: kept, status, recv_time_us, label, truncated_from: truncatedFrom };
    this.#count++;
    this.#bytes += kept.length;
  }

  /**
   * Hand up to `max` oldest entries to the persister, oldest first, and forget them. The
   * persister owns them from here: if its write fails it must keep them itself (or push them
   * back, which counts them as received again).
   */
  drain(max = this.#count): DeadLetterEntry[] {
    const n = Math.max(0, Math.min(max, this.#count));
    const out: DeadLetterEntry[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.#take();
    this.drained += n;
    return out;
  }

  /** The held entries, oldest first, without removing them (tests, debug endpoint). */
  peek(): DeadLetterEntry[] {
    const out: DeadLetterEntry[] = [];
    for (let i = 0; i < this.#count; i++) out.push(this.#slots[(this.#start + i) % this.maxEntries]!);
    return out;
  }

  #take(): DeadLetterEntry {
    const e = this.#slots[this.#start]!;
    this.#slots[this.#start] = undefined; // let the frame be collected
    this.#start = (this.#start + 1) % this.maxEntries;
    this.#count--;
    this.#bytes -= e.frame.length;
    return e;
  }

  #evictOldest(): void {
    const e = this.#take();
    this.droppedFromBuffer[e.status]!++;
  }
}
