/**
 * The file-system calls a Parquet commit makes, behind a small interface so tests can inject
 * ENOSPC/EACCES/EIO at any step. Synchronous: commits run inside the writer worker, where
 * blocking is the point (the main loop never waits on them).
 *
 * Faults are plain data (`FsFault[]`) so they can be posted to a worker.
 */

import * as nodeFs from "node:fs";
import { dirname } from "node:path";
import { fsyncDirSync } from "../errno.ts";
import { errnoError } from "./errors.ts";

const { O_WRONLY, O_CREAT, O_EXCL } = nodeFs.constants;

export interface ParquetFs {
  /** mkdir -p; returns the first directory it created, if any (its parent needs an fsync). */
  mkdirp(dir: string): string | undefined;
  /** Create a new file for writing; fails if it exists. */
  createExclusive(path: string): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  fsync(fd: number): void;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** fsync a directory so a created, renamed or removed entry survives power loss. */
  fsyncDir(dir: string): void;
}

export const nodeParquetFs: ParquetFs = {
  mkdirp: (dir) => nodeFs.mkdirSync(dir, { recursive: true }),
  createExclusive: (path) => nodeFs.openSync(path, O_WRONLY | O_CREAT | O_EXCL, 0o644),
  write: (fd, buf, offset, length) => nodeFs.writeSync(fd, buf, offset, length),
  fsync: (fd) => nodeFs.fsyncSync(fd),
  close: (fd) => nodeFs.closeSync(fd),
  rename: (from, to) => nodeFs.renameSync(from, to),
  unlink: (path) => nodeFs.unlinkSync(path),
  fsyncDir: fsyncDirSync,
};

export type FsOp = keyof ParquetFs;

export interface FsFault {
  readonly op: FsOp;
  /** errno name thrown, e.g. "ENOSPC", "EIO", "EACCES". */
  readonly code: string;
  /** Let this many matching calls pass first (default 0). */
  readonly after?: number;
  /** Fail this many calls, then pass again (default: forever). */
  readonly times?: number;
}

/** Wrap `base` so the listed calls throw errno errors; the fault list is consumed as it fires. */
export function faultyFs(base: ParquetFs, faults: readonly FsFault[]): ParquetFs {
  const state = faults.map((f) => ({ ...f, skip: f.after ?? 0, left: f.times ?? Number.POSITIVE_INFINITY }));
  const check = (op: FsOp) => {
    for (const f of state) {
      if (f.op !== op || f.left <= 0) continue;
      if (f.skip > 0) {
        f.skip--;
        continue;
      }
      f.left--;
      throw errnoError(f.code, op);
    }
  };
  const guard =
    <A extends unknown[], R>(op: FsOp, fn: (...a: A) => R) =>
    (...a: A): R => {
      check(op);
      return fn(...a);
    };
  return {
    mkdirp: guard("mkdirp", base.mkdirp),
    createExclusive: guard("createExclusive", base.createExclusive),
    write: guard("write", base.write),
    fsync: guard("fsync", base.fsync),
    close: guard("close", base.close),
    rename: guard("rename", base.rename),
    unlink: guard("unlink", base.unlink),
    fsyncDir: guard("fsyncDir", base.fsyncDir),
  };
}

/** fsync every parent from `created` (first new dir) up to `leafDir`'s parent chain start. */
export function fsyncCreatedDirs(fs: ParquetFs, created: string | undefined, leafDir: string): void {
  if (created === undefined) return;
  // Each new entry lives in its parent: fsync from the leaf up to the parent of `created`.
  let d = leafDir;
  for (let i = 0; i < 64; i++) {
    fs.fsyncDir(d);
    if (d === created) break;
    d = dirname(d);
  }
  fs.fsyncDir(dirname(created));
}
