/**
 * FaultyFs: the real file system plus switches that make writes or fsyncs fail the way a full or
 * failing disk does. Tests inject it as `fs` (inline path); the WAL's worker builds its own from
 * the switches a test sends it (WorkerWalWriter.setFaults), since a Worker cannot share objects.
 */
import { errnoError } from "./errors.ts";
import { nodeSinkFs, type SinkFs } from "./fs.ts";

/** The switches, as plain data that can cross to a Worker. */
export interface FsFaults {
  readonly writeBudget?: number;
  readonly writeError?: string;
  readonly fsyncError?: string | null;
}

export class FaultyFs implements SinkFs {
  /** Bytes writes may still put on disk before failing with `writeError` (a disk filling up). */
  writeBudget = Number.POSITIVE_INFINITY;
  writeError = "ENOSPC";
  /** errno for every fsync while set (sync and async). */
  fsyncError: string | null = null;
  /** errno for every background unlink (a segment's deletion) while set. */
  unlinkError: string | null = null;
  writes = 0;
  fsyncs = 0;

  set(f: FsFaults): void {
    if (f.writeBudget !== undefined) this.writeBudget = f.writeBudget;
    if (f.writeError !== undefined) this.writeError = f.writeError;
    if (f.fsyncError !== undefined) this.fsyncError = f.fsyncError;
  }

  open = nodeSinkFs.open;
  truncate = nodeSinkFs.truncate;
  close = nodeSinkFs.close;
  size = nodeSinkFs.size;
  readFile = nodeSinkFs.readFile;
  unlink = nodeSinkFs.unlink;
  rename = nodeSinkFs.rename;
  readdir = nodeSinkFs.readdir;
  mkdirp = nodeSinkFs.mkdirp;
  fsyncDir = nodeSinkFs.fsyncDir;
  fsyncDirAsync = nodeSinkFs.fsyncDirAsync;

  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    this.writes++;
    if (this.writeBudget <= 0) throw errnoError(this.writeError, "write");
    // A disk with a little room left takes part of the write, like a real short write.
    const n = nodeSinkFs.write(fd, buf, offset, Math.min(length, this.writeBudget), position);
    this.writeBudget -= n;
    return n;
  }

  fsync(fd: number, done: (err: Error | null) => void): void {
    this.fsyncs++;
    if (this.fsyncError) {
      const err = errnoError(this.fsyncError, "fsync");
      queueMicrotask(() => done(err));
      return;
    }
    nodeSinkFs.fsync(fd, done);
  }

  unlinkAsync(path: string, done: (err: Error | null) => void): void {
    if (this.unlinkError) {
      const err = errnoError(this.unlinkError, "unlink");
      queueMicrotask(() => done(err));
      return;
    }
    nodeSinkFs.unlinkAsync(path, done);
  }

  fsyncSync(fd: number): void {
    this.fsyncs++;
    if (this.fsyncError) throw errnoError(this.fsyncError, "fsync");
    nodeSinkFs.fsyncSync(fd);
  }
}
