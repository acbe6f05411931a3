/**
 * Keeping the store's object set equal to the catalog's visible files.
 *
 * Start-up, before the catalog rebuild: `pullMissing` downloads every K2 object the local folder
 * lacks, so a fresh machine recovers the data set (and WAL replay sees those rows as stored,
 * instead of writing them again). After the rebuild, `reconcile` uploads visible files the store
 * lacks (a crash between the local commit and the upload).
 *
 * In the background (after compaction and retention), `reconcile` again: upload what is new
 * (merged files), then delete objects whose local file was retired and deleted. Deletes happen
 * only after every upload of the pass succeeded, so the merged object exists before the objects
 * it replaces go. An outside reader of the bucket may briefly see both; the merged file's footer
 * names the files it replaces (`k2.replaces`), which K2's own rebuild honours, and a reader that
 * wants exact rows must too (or read through K2's API).
 *
 * Only objects this process knows as its own (listed at start, uploaded, downloaded) are ever
 * deleted; one K2 per prefix is assumed, and another writer's new objects are left alone.
 */
import { existsSync } from "node:fs";
import { Backoff } from "../../resilience/backoff.ts";
import type { FileInfo } from "../parquet/index.ts";
import { ObjectStoreError, toObjectStoreError } from "./errors.ts";
import type { FileRef } from "./keys.ts";
import type { Lane, ObjectMirror } from "./mirror.ts";

/** What reconcile needs of the catalog (structural: sink/ does not import catalog/). */
export interface VisibleFiles {
  all(): readonly FileInfo[];
  /** Keep files on disk until the returned function runs (see Catalog.pin). */
  pin(paths: readonly string[]): () => void;
}

export interface PullOutcome {
  readonly listed: number;
  readonly downloaded: number;
}

export interface ReconcileOutcome {
  readonly listed: number;
  readonly uploaded: number;
  readonly uploadFailed: number;
  readonly deleted: number;
  readonly deleteFailed: number;
}

/** How long start-up waits for a store that is down (a wrong bucket or key fails at once). */
export const STARTUP_TIMEOUT_MS = 30_000;

/**
 * Which objects a process looks after: all of them for a single process, its shard's for a
 * scale-out writer (other writers' objects are theirs to upload and delete).
 */
export type Owns = (ref: FileRef) => boolean;
const ALL: Owns = () => true;

/** Download every K2 object (of `owns`) missing locally (temp file → fsync → rename). Throws ObjectStoreError. */
export async function pullMissing(mirror: ObjectMirror, owns: Owns = ALL): Promise<PullOutcome> {
  const listed = (await mirror.list()).filter((o) => owns(o.ref));
  mirror.adopt(listed);
  let downloaded = 0;
  for (const o of listed) {
    if (existsSync(mirror.localPathOf(o.ref))) continue;
    await mirror.download(o);
    downloaded++;
  }
  return { listed: listed.length, downloaded };
}

/** One pass: upload visible files the store lacks, then delete objects retired locally. */
export async function reconcile(
  mirror: ObjectMirror,
  files: VisibleFiles,
  lane: Lane = "background",
  owns: Owns = ALL,
): Promise<ReconcileOutcome> {
  const listed = (await mirror.list(lane)).filter((o) => owns(o.ref));
  const remoteSize = new Map(listed.map((o) => [o.key, o.size]));
  // Listed before this synchronous step: an object in `listed` whose file is not visible now
  // was retired, never "not yet added" (the write path adds to the catalog before it uploads).
  const visibleKeys = new Set<string>();
  const missing: FileInfo[] = [];
  for (const f of files.all()) {
    const key = mirror.keyOf(f);
    visibleKeys.add(key);
    if (remoteSize.get(key) !== f.bytes) missing.push(f);
  }
  const release = files.pin(missing.map((f) => f.path));
  let uploaded = 0;
  let uploadFailed = 0;
  try {
    for (const f of missing) {
      if (mirror.closed(lane)) break;
      try {
        await mirror.put(f, lane);
        uploaded++;
      } catch {
        uploadFailed++; // counted and reported by the mirror; the next pass retries
      }
    }
  } finally {
    release();
  }
  let deleted = 0;
  let deleteFailed = 0;
  if (uploaded === missing.length) {
    for (const o of listed) {
      if (mirror.closed(lane)) break;
      if (visibleKeys.has(o.key) || !mirror.isKnown(o.key)) continue;
      // Still on disk: retired but pinned by a reader, or unreadable. Not ours to drop yet.
      if (existsSync(mirror.localPathOf(o.ref))) continue;
      try {
        await mirror.remove(o.key, lane);
        deleted++;
      } catch {
        deleteFailed++;
      }
    }
  }
  return { listed: listed.length, uploaded, uploadFailed, deleted, deleteFailed };
}

/**
 * Run a start-up step until it succeeds: a store that is down is waited for (bounded), a wrong
 * bucket or credentials fail at once. The error names the store and what was wrong.
 */
export async function atStartup<T>(
  mirror: ObjectMirror,
  what: string,
  step: () => Promise<T>,
  timeoutMs = STARTUP_TIMEOUT_MS,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  const backoff = new Backoff({ baseMs: 200, capMs: 5_000 });
  for (;;) {
    let err: ObjectStoreError;
    try {
      return await step();
    } catch (e) {
      err = toObjectStoreError("startup", what, e);
    }
    const delay = backoff.nextDelayMs();
    if (!err.retryable || mirror.stopped || performance.now() + delay > deadline) {
      const where = `s3://${mirror.bucket}/${mirror.prefix}`;
      throw new ObjectStoreError(
        err.kind,
        err.op,
        `object store ${where}: ${what} failed: ${err.message}`,
        err.code,
      );
    }
    await Bun.sleep(delay);
  }
}

/** Start-up push: every visible local file must be stored before ingest starts. */
export async function pushAll(
  mirror: ObjectMirror,
  files: VisibleFiles,
  owns: Owns = ALL,
): Promise<ReconcileOutcome> {
  const r = await reconcile(mirror, files, "write", owns);
  if (r.uploadFailed > 0) {
    throw mirror.failing?.error ?? new ObjectStoreError("other", "put", `${r.uploadFailed} uploads failed`);
  }
  return r;
}
