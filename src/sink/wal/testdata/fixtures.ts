/**
 * Test fixtures for the WAL and DLQ: FaultyFs (the real file system plus switches that make
 * writes or fsyncs fail the way a full or failing disk does), temp folders, and frameFor(seq),
 * the deterministic frame the tests and the crash child write and check.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errnoError } from "../errors.ts";
import { nodeSinkFs, type SinkFs } from "../fs.ts";

export class FaultyFs implements SinkFs {
  /** Bytes writes may still put on disk before failing with `writeError` (a disk filling up). */
  writeBudget = Number.POSITIVE_INFINITY;
  writeError = "ENOSPC";
  /** errno for every fsync while set (sync and async). */
  fsyncError: string | null = null;
  writes = 0;
  fsyncs = 0;

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

  fsyncSync(fd: number): void {
    this.fsyncs++;
    if (this.fsyncError) throw errnoError(this.fsyncError, "fsync");
    nodeSinkFs.fsyncSync(fd);
  }
}

/** A fresh folder under os.tmpdir(); call the returned function to remove it. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `k2-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic frame for a seq: varying length, some multi-byte characters. */
export function frameFor(seq: number): string {
  const pad = "x".repeat((seq * 37) % 300);
  const uni = seq % 5 === 0 ? "€é漢🙂" : "";
  return `{"stream":"btcusdt@trade","data":{"t":${seq},"p":"43123.45"${uni}}}${pad}`;
}
