/**
 * Diff events held while a book waits for its REST snapshot (Binance: "buffer the events received
 * from the stream"). The decoder's DepthFrame is reused for the next frame, so events are copied
 * into typed arrays: per event its ids, times and where its levels start in a shared level pool.
 *
 * Bounded: it starts small, grows (a cold path: only while a book is not synced) up to
 * `maxEvents` events and `maxLevels` levels, and past that drops its oldest events (counted in
 * `dropped`). Dropping the oldest is safe: the first buffered `U` moves up, and a snapshot older
 * than it is refetched by the synchroniser's rule.
 */
import type { DepthFrame } from "../decode/binance/index.ts";

export const DIFF_BUFFER_MAX_EVENTS = 4_096;
export const DIFF_BUFFER_MAX_LEVELS = 262_144;

export class DiffBuffer {
  readonly maxEvents: number;
  readonly maxLevels: number;
  n = 0;
  /** Levels used in the pool. */
  levels = 0;
  /** Events dropped to stay within the bounds. */
  dropped = 0;
  first = new Float64Array(16);
  last = new Float64Array(16);
  timeUs = new Float64Array(16);
  recvUs = new Float64Array(16);
  /** Per event: pool index of its first bid, its bid count, then the same for asks. */
  bidAt = new Int32Array(16);
  bidN = new Int32Array(16);
  askAt = new Int32Array(16);
  askN = new Int32Array(16);
  pxw = new Uint32Array(2 * 256);
  qtyw = new Uint32Array(2 * 256);

  constructor(maxEvents = DIFF_BUFFER_MAX_EVENTS, maxLevels = DIFF_BUFFER_MAX_LEVELS) {
    this.maxEvents = maxEvents;
    this.maxLevels = maxLevels;
  }

  clear(): void {
    this.n = 0;
    this.levels = 0;
  }

  /** Copy a diff in; false when it alone is larger than the pool's bound (nothing is kept then). */
  push(f: DepthFrame): boolean {
    const need = f.bids.n + f.asks.n;
    if (need > this.maxLevels) {
      this.dropped += this.n + 1;
      this.clear();
      return false;
    }
    while (this.n > 0 && (this.n >= this.maxEvents || this.levels + need > this.maxLevels))
      this.#dropOldest();
    this.#room(this.n + 1, this.levels + need);
    const e = this.n;
    this.first[e] = f.firstId;
    this.last[e] = f.lastId;
    this.timeUs[e] = f.eventTimeUs;
    this.recvUs[e] = f.recvTimeUs;
    this.bidAt[e] = this.levels;
    this.bidN[e] = f.bids.n;
    this.#copy(f.bids.pxw, f.bids.qtyw, f.bids.n);
    this.askAt[e] = this.levels;
    this.askN[e] = f.asks.n;
    this.#copy(f.asks.pxw, f.asks.qtyw, f.asks.n);
    this.n = e + 1;
    return true;
  }

  #copy(pxw: Uint32Array, qtyw: Uint32Array, n: number): void {
    const at = 2 * this.levels;
    this.pxw.set(pxw.subarray(0, 2 * n), at);
    this.qtyw.set(qtyw.subarray(0, 2 * n), at);
    this.levels += n;
  }

  /** Drop the oldest half of the events (at least one). */
  #dropOldest(): void {
    const k = Math.max(1, this.n >> 1);
    this.dropFirst(k);
    this.dropped += k;
  }

  /** Forget the first `k` events, compacting the pool (cold path: only while not synced). */
  dropFirst(k: number): void {
    if (k >= this.n) {
      this.clear();
      return;
    }
    const base = this.bidAt[k]!;
    this.pxw.copyWithin(0, 2 * base, 2 * this.levels);
    this.qtyw.copyWithin(0, 2 * base, 2 * this.levels);
    this.levels -= base;
    for (const a of [this.first, this.last, this.timeUs, this.recvUs]) a.copyWithin(0, k, this.n);
    for (const a of [this.bidAt, this.bidN, this.askAt, this.askN]) a.copyWithin(0, k, this.n);
    this.n -= k;
    for (let e = 0; e < this.n; e++) {
      this.bidAt[e] = this.bidAt[e]! - base;
      this.askAt[e] = this.askAt[e]! - base;
    }
  }

  #room(events: number, levels: number): void {
    if (events > this.first.length) {
      const cap = Math.min(this.maxEvents, Math.max(events, 2 * this.first.length));
      this.first = grownF(this.first, cap);
      this.last = grownF(this.last, cap);
      this.timeUs = grownF(this.timeUs, cap);
      this.recvUs = grownF(this.recvUs, cap);
      this.bidAt = grownI(this.bidAt, cap);
      this.bidN = grownI(this.bidN, cap);
      this.askAt = grownI(this.askAt, cap);
      this.askN = grownI(this.askN, cap);
    }
    if (2 * levels > this.pxw.length) {
      const cap = Math.min(this.maxLevels, Math.max(levels, this.pxw.length));
      const px = new Uint32Array(2 * cap);
      const qty = new Uint32Array(2 * cap);
      px.set(this.pxw.subarray(0, 2 * this.levels));
      qty.set(this.qtyw.subarray(0, 2 * this.levels));
      this.pxw = px;
      this.qtyw = qty;
    }
  }
}

function grownF(a: Float64Array, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

function grownI(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
