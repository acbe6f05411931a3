/**
 * fsync scheduling for the WAL: at most one fsync in flight, at most one started per interval,
 * run on the thread pool (SinkFs.fsync) so the event loop keeps decoding while the disk works.
 * `durableSeq` advances only when an fsync that started after those records were written
 * succeeds.
 */
import type { SinkFs } from "./fs.ts";

export class Syncer {
  /** Highest seq an fsync has confirmed. */
  durableSeq: number;
  readonly #fs: SinkFs;
  readonly #intervalMs: number;
  readonly #onDone: (err: Error | null) => void;
  #inFlight = false;
  #fd = -1; // the fd the running fsync is on
  #retired = -1; // an fd taken out of service while its fsync runs: closed by the callback
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #waiters: (() => void)[] = [];

  constructor(fs: SinkFs, intervalMs: number, durableSeq: number, onDone: (err: Error | null) => void) {
    this.#fs = fs;
    this.#intervalMs = intervalMs;
    this.durableSeq = durableSeq;
    this.#onDone = onDone;
  }

  /** Start an fsync of `fd`, covering records up to `writtenSeq`, if one is due (or `force`). */
  maybeStart(fd: number, writtenSeq: number, nowMs: number, force: boolean): void {
    if (this.#inFlight || writtenSeq <= this.durableSeq) return;
    if (!force && nowMs - this.#lastStartMs < this.#intervalMs) return;
    this.#inFlight = true;
    this.#fd = fd;
    this.#lastStartMs = nowMs;
    this.#fs.fsync(fd, (err) => {
      this.#inFlight = false;
      // Linux may drop dirty pages after a failed fsync, so a later success does not prove
      // these bytes reached the disk. We report and retry; see the README of issue 5.
      if (!err && writtenSeq > this.durableSeq) this.durableSeq = writtenSeq;
      this.#onDone(err);
      if (this.#retired === fd) {
        this.#retired = -1;
        this.#fs.close(fd);
      }
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
  }

  /** `fd` leaves service: close it now, or after the fsync running on it (closing under a
   * running fsync would fail it, or hit a reused fd number). */
  retire(fd: number): void {
    if (this.#inFlight && this.#fd === fd) this.#retired = fd;
    else this.#fs.close(fd);
  }

  /** Resolves when no fsync is running. */
  idle(): Promise<void> {
    if (!this.#inFlight) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
