/**
 * The file-system calls the WAL and the DLQ make, behind a small interface so tests can inject
 * ENOSPC/EIO and then let the fault clear. Synchronous except fsync, a segment's unlink and the
 * folder's fsync after deletions: a write of a few KB to the page cache is cheaper than a
 * promise, while those can block for milliseconds and run on the thread pool instead.
 */

import * as nodeFs from "node:fs";
import { fsyncDirAsync, fsyncDirSync } from "../errno.ts";

const { O_RDWR, O_CREAT, O_EXCL } = nodeFs.constants;

export interface SinkFs {
  /** Open for positional read/write, creating when `create`; `exclusive` fails if it exists. */
  open(path: string, create: boolean, exclusive: boolean): number;
  /** pwrite: may write fewer bytes than asked; throws an errno error. */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  fsync(fd: number, done: (err: Error | null) => void): void;
  fsyncSync(fd: number): void;
  truncate(fd: number, length: number): void;
  close(fd: number): void;
  size(fd: number): number;
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
  /** unlink on the thread pool: a large file's unlink blocks for tens of ms (segments.ts). */
  unlinkAsync(path: string, done: (err: Error | null) => void): void;
  rename(from: string, to: string): void;
  readdir(dir: string): string[];
  mkdirp(dir: string): void;
  /** fsync a directory so a created or removed entry survives power loss. */
  fsyncDir(dir: string): void;
  /** fsyncDir on the thread pool (after deletions, segments.ts: it can take most of a second). */
  fsyncDirAsync(dir: string, done: (err: Error | null) => void): void;
}

export const nodeSinkFs: SinkFs = {
  // Never O_APPEND: Linux pwrite ignores the position on such a file, and we write at offsets.
  open: (path, create, exclusive) =>
    nodeFs.openSync(path, O_RDWR | (create ? O_CREAT : 0) | (create && exclusive ? O_EXCL : 0)),
  write: (fd, buf, offset, length, position) => nodeFs.writeSync(fd, buf, offset, length, position),
  fsync: (fd, done) => nodeFs.fsync(fd, (err) => done(err ?? null)),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  truncate: (fd, length) => nodeFs.ftruncateSync(fd, length),
  close: (fd) => nodeFs.closeSync(fd),
  size: (fd) => nodeFs.fstatSync(fd).size,
  readFile: (path) => nodeFs.readFileSync(path),
  unlink: (path) => nodeFs.unlinkSync(path),
  unlinkAsync: (path, done) => nodeFs.unlink(path, (err) => done(err ?? null)),
  rename: (from, to) => nodeFs.renameSync(from, to),
  readdir: (dir) => nodeFs.readdirSync(dir),
  mkdirp: (dir) => {
    nodeFs.mkdirSync(dir, { recursive: true });
  },
  fsyncDir: fsyncDirSync,
  fsyncDirAsync: (dir, done) =>
    void fsyncDirAsync(dir).then(
      () => done(null),
      (err: Error) => done(err),
    ),
};
