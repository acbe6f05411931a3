/** Segment files on disk: listing them in seq order and creating one atomically. */
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
