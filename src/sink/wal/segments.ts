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
 * Delete whole segments whose every record has seq ≤ `seq`, oldest first; never the active one
 * (the last of `firsts`, ascending first seqs, which loses what was deleted). A segment's
 * highest seq is the next segment's first seq − 1 (see format.ts). Returns how many went.
 */
export function deleteSegmentsUpTo(
  fs: SinkFs,
  dir: string,
  firsts: number[],
  seq: number,
  errors: ErrorLatch,
): number {
  let deleted = 0;
  while (firsts.length > 1 && firsts[1]! - 1 <= seq) {
    if (!unlinkSegment(fs, dir, firsts[0]!, errors)) break;
    firsts.shift();
    deleted++;
  }
  if (deleted > 0) fsyncDirQuietly(fs, dir, errors);
  return deleted;
}

/** Delete every segment of `firsts` (a retired writer's), emptying it. */
export function deleteAllSegments(fs: SinkFs, dir: string, firsts: number[], errors: ErrorLatch): void {
  for (const first of firsts.splice(0)) unlinkSegment(fs, dir, first, errors);
  fsyncDirQuietly(fs, dir, errors);
}

/** fsync the folder so created or removed entries survive power loss; errors are reported. */
export function fsyncDirQuietly(fs: SinkFs, dir: string, errors: ErrorLatch): void {
  try {
    fs.fsyncDir(dir);
  } catch (err) {
    errors.fail("fsync", dir, err);
  }
}

/** False (reported) when the file is there and could not be removed. */
function unlinkSegment(fs: SinkFs, dir: string, first: number, errors: ErrorLatch): boolean {
  const path = `${dir}/${segmentName(first)}`;
  try {
    fs.unlink(path);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return true;
    errors.fail("delete", path, err);
    return false;
  }
  return true;
}
