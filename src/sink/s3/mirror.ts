/**
 * ObjectMirror: the Parquet files of the local folder, copied one for one to an S3-compatible
 * store with Bun's S3 client. The local file is committed first (atomic, fsynced); the object
 * is a copy made after, so a reader of the bucket never sees a partial file either (a PUT is
 * atomic).
 *
 * `upload` is what the write path awaits before the WAL may drop the rows: it retries with
 * capped, jittered backoff until the object exists or the mirror is stopped, and never rejects,
 * so the batcher never rewrites (and so duplicates) a file it already committed locally. A store
 * outage thus holds write promises open, the batcher's bounded batches fill, the ring fills and
 * the sockets pause, exactly as a full disk does; `failing` feeds /health/ready meanwhile.
 */
import { existsSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { S3Client } from "bun";
import type { ObjectStoreConfig } from "../../config/index.ts";
import { Backoff } from "../../resilience/backoff.ts";
import { fsyncDirAsync } from "../errno.ts";
import { tempNameOf } from "../parquet/index.ts";
import { ObjectStoreError, toObjectStoreError } from "./errors.ts";
import { type FileRef, listPrefix, localPath, objectKey, parseObjectKey } from "./keys.ts";

export type StoreTarget = Pick<
  ObjectStoreConfig,
  "bucket" | "prefix" | "endpoint" | "region" | "credentials"
>;

export interface MirrorOptions {
  readonly store: StoreTarget;
  /** The local folder the files are copied from and downloaded to. */
  readonly dataDir: string;
  /** First retry ceiling and cap of the upload backoff. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** One request longer than this counts as failed (the store may accept and never answer). */
  readonly attemptTimeoutMs?: number;
  /** Every failed operation, for the log (the mirror keeps going). */
  readonly onError?: (e: ObjectStoreError) => void;
  readonly nowMs?: () => number;
}

/** Upload retry defaults: 200 ms first ceiling, 30 s cap (a store back up is used within ~30 s). */
export const UPLOAD_RETRY_BASE_MS = 200;
export const UPLOAD_RETRY_MAX_MS = 30_000;
export const ATTEMPT_TIMEOUT_MS = 120_000;
/** A PUT also gets 1 s per MiB on top (a slow link is not a dead store; 1 GiB → ~19 min). */
const PUT_MS_PER_MIB = 1_000;
const PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet";

/**
 * "write": the write path and start-up (stopped last, at shutdown, after the batcher drained);
 * "background": reconcile passes, stopped first at shutdown so a slow store cannot hold it up.
 */
export type Lane = "write" | "background";

export interface ListedObject {
  readonly key: string;
  readonly ref: FileRef;
  readonly size: number;
}

export class ObjectMirror {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly dataDir: string;
  uploads = 0;
  uploadFailures = 0;
  uploadBytes = 0;
  downloads = 0;
  downloadBytes = 0;
  deletes = 0;
  readonly #opts: MirrorOptions;
  readonly #now: () => number;
  readonly #wakers = new Map<() => void, Lane>();
  /** Uploads sleeping between retries: woken early once any request succeeds again. */
  readonly #sleepers = new Set<() => void>();
  /** Keys this process knows as K2's own (listed at start, uploaded, downloaded): deletable. */
  readonly #known = new Set<string>();
  #pending = 0;
  #stopped = false;
  #backgroundStopped = false;
  #failingSinceMs: number | undefined;
  #lastError: ObjectStoreError | undefined;

  constructor(opts: MirrorOptions) {
    const s = opts.store;
    this.#opts = opts;
    this.#now = opts.nowMs ?? (() => performance.now());
    this.bucket = s.bucket;
    this.prefix = s.prefix;
    this.dataDir = opts.dataDir;
    this.client = new S3Client({
      bucket: s.bucket,
      region: s.region,
      accessKeyId: s.credentials.accessKeyId,
      secretAccessKey: s.credentials.secretAccessKey,
      ...(s.credentials.sessionToken ? { sessionToken: s.credentials.sessionToken } : {}),
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    });
  }

  keyOf(f: FileRef): string {
    return objectKey(this.prefix, f);
  }

  localPathOf(f: FileRef): string {
    return localPath(this.dataDir, f);
  }

  /** Write-path uploads not stored yet (each holds a batch, and so WAL rows, back). */
  get pending(): number {
    return this.#pending;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** True once `lane` may start no new request. */
  closed(lane: Lane): boolean {
    return this.#stopped || (lane === "background" && this.#backgroundStopped);
  }

  /** Set while the last store operation failed: since when (ms on `nowMs`'s clock) and why. */
  get failing(): { readonly sinceMs: number; readonly error: ObjectStoreError } | undefined {
    if (this.#failingSinceMs === undefined || !this.#lastError) return undefined;
    return { sinceMs: this.#failingSinceMs, error: this.#lastError };
  }

  isKnown(key: string): boolean {
    return this.#known.has(key);
  }

  /**
   * PUT the committed local file, retrying until it is stored. True once stored; false when the
   * mirror was stopped first, or the local file is gone (retired and deleted: its rows are in the
   * file that replaced it, which has its own upload). Never rejects.
   */
  async upload(f: FileRef): Promise<boolean> {
    const backoff = new Backoff({
      baseMs: this.#opts.retryBaseMs ?? UPLOAD_RETRY_BASE_MS,
      capMs: this.#opts.retryMaxMs ?? UPLOAD_RETRY_MAX_MS,
    });
    this.#pending++;
    try {
      while (!this.#stopped) {
        try {
          await this.put(f);
          return true;
        } catch {
          // put() counted and reported the failure.
          if (!existsSync(this.localPathOf(f))) return false;
          if (this.#stopped) return false;
          await this.#sleep(backoff.nextDelayMs());
        }
      }
      return false;
    } finally {
      this.#pending--;
    }
  }

  /** One PUT attempt; throws ObjectStoreError (counted, reported). */
  async put(f: FileRef, lane: Lane = "write"): Promise<void> {
    const key = this.keyOf(f);
    const file = Bun.file(this.localPathOf(f));
    try {
      const extraMs = Math.ceil(file.size / 1_048_576) * PUT_MS_PER_MIB;
      const bytes = await this.#attempt(
        lane,
        () => this.client.write(key, file, { type: PARQUET_CONTENT_TYPE }),
        extraMs,
      );
      this.uploads++;
      this.uploadBytes += bytes;
      this.#known.add(key);
      this.#ok();
    } catch (e) {
      this.uploadFailures++;
      throw this.#failed(toObjectStoreError("put", key, e));
    }
  }

  /** Every K2 data object under the prefix (foreign keys skipped), paged. Throws ObjectStoreError. */
  async list(lane: Lane = "write"): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    const prefix = listPrefix(this.prefix);
    let token: string | undefined;
    try {
      do {
        const page = await this.#attempt(lane, () =>
          this.client.list({ prefix, ...(token !== undefined ? { continuationToken: token } : {}) }),
        );
        for (const o of page.contents ?? []) {
          const ref = parseObjectKey(this.prefix, o.key);
          if (ref) out.push({ key: o.key, ref, size: o.size ?? 0 });
        }
        token = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      throw this.#failed(toObjectStoreError("list", `s3://${this.bucket}/${prefix}`, e));
    }
    this.#ok();
    return out;
  }

  /** Everything `list` returned becomes known as K2's own (start-up: the store is the truth). */
  adopt(objects: readonly ListedObject[]): void {
    for (const o of objects) this.#known.add(o.key);
  }

  /**
   * GET into `.tmp-<name>.partial` beside the final path, fsync, rename, fsync the folder: a reader (and
   * a crash) sees the whole file or none. Throws ObjectStoreError.
   */
  async download(o: ListedObject): Promise<string> {
    const path = this.localPathOf(o.ref);
    const dir = dirname(path);
    const tmp = join(dir, tempNameOf(o.ref.name));
    let bytes = 0;
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, "w", 0o644);
      try {
        const stream = this.client.file(o.key).stream();
        for await (const chunk of this.#stoppable(stream)) {
          for (let off = 0; off < chunk.byteLength; ) {
            off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
          }
          bytes += chunk.byteLength;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (bytes !== o.size)
        throw new ObjectStoreError("mismatch", "get", `get ${o.key}: ${bytes} bytes, listing said ${o.size}`);
      await rename(tmp, path);
      await fsyncDirAsync(dir);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw this.#failed(toObjectStoreError("get", o.key, e));
    }
    this.downloads++;
    this.downloadBytes += bytes;
    this.#known.add(o.key);
    this.#ok();
    return path;
  }

  /** DELETE one object. Throws ObjectStoreError. */
  async remove(key: string, lane: Lane = "background"): Promise<void> {
    try {
      await this.#attempt(lane, () => this.client.delete(key));
    } catch (e) {
      throw this.#failed(toObjectStoreError("delete", key, e));
    }
    this.deletes++;
    this.#known.delete(key);
    this.#ok();
  }

  /**
   * End every retry loop and abandon waiting requests: pending uploads return false at once.
   * Their files stay local and their rows in the WAL; the next start uploads them.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const w of [...this.#wakers.keys()]) w();
    for (const w of [...this.#sleepers]) w();
  }

  /** Abandon reconcile passes (shutdown, first step): their requests give up at once. */
  stopBackground(): void {
    this.#backgroundStopped = true;
    for (const [w, lane] of [...this.#wakers]) if (lane === "background") w();
  }

  #ok(): void {
    const recovered = this.#failingSinceMs !== undefined;
    this.#failingSinceMs = undefined;
    this.#lastError = undefined;
    // The store answers again: retry the waiting uploads now, not after their backoff (≤ 30 s).
    if (recovered) for (const w of [...this.#sleepers]) w();
  }

  #failed(e: ObjectStoreError): ObjectStoreError {
    if (e.kind === "stopped") return e;
    this.#failingSinceMs ??= this.#now();
    this.#lastError = e;
    this.#opts.onError?.(e);
    return e;
  }

  /** A request bounded by the attempt timeout and by stop() (or stopBackground(), on its lane). */
  async #attempt<T>(lane: Lane, request: () => Promise<T>, extraMs = 0): Promise<T> {
    if (this.closed(lane)) throw new ObjectStoreError("stopped", "wait", "object mirror stopped");
    const p = request();
    const ms = (this.#opts.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS) + extraMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waker = () => {};
    const cut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ObjectStoreError("unreachable", "wait", `no answer within ${ms} ms`)),
        ms,
      );
      waker = () => reject(new ObjectStoreError("stopped", "wait", "object mirror stopped"));
      this.#wakers.set(waker, lane);
    });
    // The losing request is not cancelled (Bun's S3 calls take no signal); it ends on its own.
    p.catch(() => undefined);
    try {
      return await Promise.race([p, cut]);
    } finally {
      clearTimeout(timer);
      this.#wakers.delete(waker);
    }
  }

  async *#stoppable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
    const reader = stream.getReader();
    try {
      for (;;) {
        const r = await this.#attempt("write", () => reader.read());
        if (r.done) return;
        yield r.value;
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }
}
