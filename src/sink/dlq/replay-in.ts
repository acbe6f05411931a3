/**
 * Start-up pickup of operator-recovered frames: `<dataDir>/replay-in/*.ndjson` (DLQ line format,
 * as `k2 dlq replay --out` writes) are appended to the WAL BEFORE WAL replay runs. From there they
 * take the path every unflushed row takes after a crash (src/ingest/replay.ts): exact-id dedupe
 * against visible Parquet files and within the WAL, then the ring, so a recovered frame whose id
 * gap repair or the stream already stored is dropped, and none is stored twice.
 *
 * A file is renamed `*.ndjson.done` only after its records are fsynced in the WAL. A crash in
 * between appends them again on the next start: harmless, WAL replay counts them as duplicates.
 * When the WAL refuses (disk failing), the file stays for the next start.
 */
import { nodeSinkFs, type SinkFs } from "../wal/fs.ts";
import { decodeDlqLine } from "./format.ts";

/** The WalWriter methods used (structural, so tests and the pipeline pass the real writer). */
export interface ReplayInWal {
  append(frame: string, recvTimeUs: number, tag: number): number;
  sync(): Promise<number>;
}

export interface ReplayInReport {
  /** Files adopted (renamed .done), and their frames appended to the WAL. */
  files: number;
  frames: number;
  /** Lines skipped: not a DLQ line, a frame that is not UTF-8, or a torn last line. */
  skipped: number;
  /** A file left in place because the WAL refused or did not confirm it durable; null if none. */
  leftInPlace: string | null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** `tag` is the WAL tag recorded with each frame (the pipeline passes FrameTag.REST). */
export async function adoptReplayIn(
  dir: string,
  wal: ReplayInWal,
  tag: number,
  fs: SinkFs = nodeSinkFs,
): Promise<ReplayInReport> {
  const report: ReplayInReport = { files: 0, frames: 0, skipped: 0, leftInPlace: null };
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return report; // nothing recovered: the usual case
    throw e;
  }
  for (const name of names.filter((n) => n.endsWith(".ndjson")).sort()) {
    const path = `${dir}/${name}`;
    const lines = new TextDecoder().decode(fs.readFile(path)).split("\n");
    if (lines.pop()) report.skipped++; // text after the last newline: a torn write
    let lastSeq = -1;
    let appended = 0;
    let refused = false;
    for (const line of lines) {
      if (line === "") continue;
      const e = decodeDlqLine(line);
      let frame: string | null = null;
      if (typeof e !== "string") {
        try {
          frame = typeof e.frame === "string" ? e.frame : utf8.decode(e.frame);
        } catch {
          // not UTF-8: never a Binance JSON frame, never decodable
        }
      }
      if (frame === null || typeof e === "string") {
        report.skipped++;
        continue;
      }
      const seq = wal.append(frame, e.recvTimeUs, tag);
      if (seq < 0) {
        refused = true;
        break;
      }
      lastSeq = seq;
      appended++;
    }
    // Refused part-way, or not durable: the file stays whole; what did reach the WAL is
    // deduped by WAL replay when it is appended again next start.
    if (refused || (appended > 0 && (await wal.sync()) < lastSeq)) {
      report.leftInPlace = path;
      return report;
    }
    fs.rename(path, `${path}.done`);
    report.files++;
    report.frames += appended;
  }
  return report;
}
