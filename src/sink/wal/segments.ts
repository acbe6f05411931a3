/**
 * Segment files on disk: listing them in seq order, creating one atomically, and deleting the
 * ones a writer no longer needs (both writers, inline-writer.ts and worker-writer.ts).
 */
import type { ErrorLatch } from "./errors.ts";
import { MAGIC_BYTES, parseSegmentName, segmentName } from "./format.ts";
import type { SinkFs } from "./fs.ts";

/** Segment files of `dir` as [firstSeq, name], ascending. */
export function listSegments(fs: SinkFs, dir: string): [number, string][] {
  const out: [number, string][] = [];
  for (const name of fs.readdir(dir)) {
    const seq = parseSegmentName(name);
    if (seq !== null) out.push([seq, name]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * Create `<dir>/<firstSeq>.wal` and return its fd. The header is written under a `.tmp` name,
 * then renamed, so a crash or a full disk never leaves a headless segment whose name lies about
 * its seqs (recoverWal deletes stray `.tmp` files).
 */
export function createSegment(fs: SinkFs, dir: string, firstSeq: number): number {
  const path = `${dir}/${segmentName(firstSeq)}`;
  const tmp = `${path}.tmp`;
  const fd = fs.open(tmp, true, false);
  try {
    fs.truncate(fd, 0);
    for (let done = 0; done < MAGIC_BYTES.length; )
      done += fs.write(fd, MAGIC_BYTES, done, MAGIC_BYTES.length - done, done);
    fs.rename(tmp, path);
  } catch (err) {
    try {
      fs.close(fd);
      fs.unlink(tmp);
    } catch {
      // the original error is the one to report
    }
    throw err;
  }
  return fd;
}

/**
 * Deletes the segments a writer no longer needs, on the thread pool: unlinking a full 64 MiB
 * segment (its pages still cached) held the event loop for ~40 ms, one or two a second at max
 * rate (measured 2026-12-06, 8 % of the main thread). Oldest first, one at a time, and a failed
 * unlink stays first in line until a later `upTo` retries it, so what is on disk is always a
 * suffix of the log (what recovery expects); the folder is fsynced (on the pool as well) each
 * time the line empties.
 */
export class SegmentDeleter {
  readonly #fs: SinkFs;
  readonly #dir: string;
  readonly #errors: ErrorLatch;
  readonly #line: number[] = []; // first seqs taken out of service, ascending, still on disk
  #running = false;
  #waiters: (() => void)[] = [];

  constructor(fs: SinkFs, dir: string, errors: ErrorLatch) {
    this.#fs = fs;
    this.#dir = dir;
    this.#errors = errors;
  }

  /**
   * Take out of `firsts` (ascending first seqs; the last is the active segment and never goes)
   * every segment whose records all have seq ≤ `seq` (its highest is the next one's first − 1,
   * see format.ts) and delete them in the background. Returns how many were taken.
   */
  upTo(firsts: number[], seq: number): number {
    let taken = 0;
    while (firsts.length > 1 && firsts[1]! - 1 <= seq) {
      this.#line.push(firsts.shift()!);
      taken++;
    }
    this.#next();
    return taken;
  }

  /** Segments taken out of service and not yet deleted (on disk still). */
  get pending(): number {
    return this.#line.length;
  }

  /** Resolves when nothing is being deleted: the line is empty and its folder fsynced, or stopped
   * at a failed unlink. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Every segment of `firsts` (a retired writer's, the active one too, emptying it) joins the
   * line; resolves when the line is done, or stopped at a failure it reported.
   */
  all(firsts: number[]): Promise<void> {
    this.#line.push(...firsts.splice(0));
    this.#next();
    return this.idle();
  }

  #next(): void {
    const first = this.#line[0];
    if (this.#running || first === undefined) return;
    this.#running = true;
    const path = `${this.#dir}/${segmentName(first)}`;
    this.#fs.unlinkAsync(path, (err) => {
      const failed = err !== null && (err as { code?: string }).code !== "ENOENT";
      if (failed) {
        this.#errors.fail("delete", path, err);
        return this.#stop();
      }
      this.#errors.recovered("delete"); // a later failure is reported again; lastError clears
      this.#line.shift();
      if (this.#line.length > 0) {
        this.#running = false;
        return this.#next();
      }
      // Off the event loop too: under the max-rate run one such fsync took 789 ms. Segments that
      // join the line meanwhile are deleted next, in the same run (all() waits for them).
      this.#fs.fsyncDirAsync(this.#dir, (syncErr) => {
        if (syncErr) this.#errors.fail("fsync", this.#dir, syncErr);
        if (this.#line.length > 0) {
          this.#running = false;
          return this.#next();
        }
        this.#stop();
      });
    });
  }

  /** The run ends: the line is empty, or stopped at a failed unlink. */
  #stop(): void {
    this.#running = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** fsync the folder so created or removed entries survive power loss; errors are reported. */
export function fsyncDirQuietly(fs: SinkFs, dir: string, errors: ErrorLatch): void {
  try {
    fs.fsyncDir(dir);
  } catch (err) {
    errors.fail("fsync", dir, err);
  }
}
