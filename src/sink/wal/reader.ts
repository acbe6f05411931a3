/**
 * Reading the WAL back: `recoverWal` (run by WalWriter.open, repairs the tail) and `readWal`
 * (replay, read-only). Both read one whole segment at a time (≤ segmentMaxBytes plus one flush).
 *
 * Damage policy, decided here and reported, never thrown:
 * - Last segment, torn tail (see SegmentCursor.stopLooksTorn): the partial record is dropped and
 *   the file truncated to the last good record, so appends continue after it. A torn record was
 *   never fully written, so its seq was never reported written or durable and is reused.
 * - Last segment, corruption before the tail: the segment is left as it is (evidence) and
 *   sealed; the writer starts a new segment. Its next seq skips every seq the unreadable bytes
 *   could have held (one per RECORD_HEADER_BYTES), so no seq is ever issued twice: a pipeline
 *   that checkpointed "Parquet holds up to seq N" is never fooled by a reused number.
 * - Any earlier segment (and a sealed one, on every later read): reading stops at the bad record
 *   and resumes with the next segment. The records lost show up as a `seq_gap` problem whose
 *   range is what REST repair must fetch (an upper bound after sealing). Nothing is modified.
 * - A record with a good checksum but a seq not above the previous one is skipped (`seq_regress`),
 *   so replay never yields a seq twice.
 */
import { SegmentCursor } from "./cursor.ts";
import { MAGIC_BYTES, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "./format.ts";
import { nodeSinkFs, type SinkFs } from "./fs.ts";
import { listSegments } from "./segments.ts";

export interface WalRecord {
  readonly seq: number;
  readonly recvTimeUs: number;
  readonly tag: number;
  readonly payload: string;
}

export type WalProblemKind = "torn_tail" | "corrupt" | "seq_gap" | "seq_regress";

export interface WalProblem {
  readonly kind: WalProblemKind;
  readonly segment: string;
  /** Byte offset in the segment of the bad record (or of the record after a gap). */
  readonly offset: number;
  /** Bytes not read from this segment because of the problem. */
  readonly droppedBytes: number;
  readonly action: "truncated" | "sealed" | "skipped";
  readonly detail: string;
}

export interface WalReport {
  segments: number;
  records: number;
  /** First and last seq read; 0 when the log holds no record. */
  firstSeq: number;
  lastSeq: number;
  /** The first MAX_REPORTED_PROBLEMS problems; the rest are only counted. */
  problems: WalProblem[];
  problemsOmitted: number;
}

export interface WalRecovery extends WalReport {
  /** First seq of every segment, ascending; the last one is where appends continue. */
  readonly segmentSeqs: number[];
  /** The seq the next append gets. */
  readonly nextSeq: number;
  /** The last segment is corrupt before its tail: appends must go to a new segment. */
  readonly sealLast: boolean;
}

export const MAX_REPORTED_PROBLEMS = 32;

export function emptyReport(): WalReport {
  return { segments: 0, records: 0, firstSeq: 0, lastSeq: 0, problems: [], problemsOmitted: 0 };
}

/** One line for the log: what recovery or replay found and did. */
export function formatWalReport(r: WalReport): string {
  const head = `wal: ${r.segments} segments, ${r.records} records, seq ${r.firstSeq}..${r.lastSeq}`;
  if (r.problems.length === 0) return `${head}, clean`;
  const parts = r.problems.map(
    (p) => `${p.kind} in ${p.segment} at byte ${p.offset} (${p.detail}; ${p.droppedBytes} bytes ${p.action})`,
  );
  const more = r.problemsOmitted > 0 ? `; ${r.problemsOmitted} more` : "";
  return `${head}; ${parts.join("; ")}${more}`;
}

function addProblem(r: WalReport, p: WalProblem): void {
  if (r.problems.length < MAX_REPORTED_PROBLEMS) r.problems.push(p);
  else r.problemsOmitted++;
}

/**
 * Tracks the seq order across segments: `accept` says whether a record is new, and records gaps
 * and regressions in the report.
 */
class SeqOrder {
  /** Highest seq accepted, or the first segment's first seq − 1 (set by the caller). */
  last = 0;
  constructor(private readonly report: WalReport) {}
  accept(seq: number, segment: string, offset: number): boolean {
    if (!(seq > this.last)) {
      addProblem(this.report, {
        kind: "seq_regress",
        segment,
        offset,
        droppedBytes: 0,
        action: "skipped",
        detail: `seq ${seq} after ${this.last}`,
      });
      return false;
    }
    if (seq > this.last + 1) {
      addProblem(this.report, {
        kind: "seq_gap",
        segment,
        offset,
        droppedBytes: 0,
        action: "skipped",
        detail: `seqs ${this.last + 1}..${seq - 1} missing`,
      });
    }
    if (this.report.records === 0) this.report.firstSeq = seq;
    this.report.records++;
    this.report.lastSeq = seq;
    this.last = seq;
    return true;
  }
}

function stopProblem(
  c: SegmentCursor,
  segment: string,
  size: number,
  action: WalProblem["action"],
): WalProblem {
  const torn = c.stopLooksTorn();
  return {
    kind: torn ? "torn_tail" : "corrupt",
    segment,
    offset: c.offset,
    droppedBytes: size - c.offset,
    action,
    detail: c.stop ?? "stopped",
  };
}

/** Cut the last segment at a torn tail so appends continue after its last good record. */
function truncateTail(
  fs: SinkFs,
  dir: string,
  name: string,
  bytes: Uint8Array,
  c: SegmentCursor,
): WalProblem {
  const fd = fs.open(`${dir}/${name}`, false, false);
  try {
    // A cut inside the 8-byte magic (crash while creating the file) leaves a valid empty segment.
    const keep = c.offset < SEGMENT_HEADER_BYTES ? 0 : c.offset;
    fs.truncate(fd, keep);
    if (keep === 0) fs.write(fd, MAGIC_BYTES, 0, SEGMENT_HEADER_BYTES, 0);
    fs.fsyncSync(fd);
  } finally {
    fs.close(fd);
  }
  return stopProblem(c, name, bytes.length, "truncated");
}

/**
 * Verify every segment, repair the last one's tail, and say where appends continue. Creates
 * `dir` when missing. Throws only when the folder or the last segment cannot be read or fixed.
 */
export function recoverWal(dir: string, fs: SinkFs = nodeSinkFs): WalRecovery {
  fs.mkdirp(dir);
  // A segment being created when the process died (see WalWriter#createSegment) held no record.
  for (const name of fs.readdir(dir)) if (/^\d{20}\.wal\.tmp$/.test(name)) fs.unlink(`${dir}/${name}`);
  const report = emptyReport();
  const order = new SeqOrder(report);
  const segs = listSegments(fs, dir);
  order.last = (segs[0]?.[0] ?? 1) - 1;
  let sealLast = false;
  let skipSeqs = 0;
  for (let i = 0; i < segs.length; i++) {
    const [, name] = segs[i]!;
    const bytes = fs.readFile(`${dir}/${name}`);
    const c = new SegmentCursor(bytes);
    report.segments++;
    while (c.next()) order.accept(c.seq, name, c.recordStart);
    if (c.stop === null) continue;
    if (i < segs.length - 1) addProblem(report, stopProblem(c, name, bytes.length, "skipped"));
    else if (c.stopLooksTorn()) addProblem(report, truncateTail(fs, dir, name, bytes, c));
    else {
      addProblem(report, stopProblem(c, name, bytes.length, "sealed"));
      sealLast = true;
      skipSeqs = Math.ceil((bytes.length - c.offset) / RECORD_HEADER_BYTES);
    }
  }
  const lastSegSeq = segs.length > 0 ? segs[segs.length - 1]![0] : 1;
  // An empty last segment (rotated, then nothing written) still fixes the next seq by its name.
  const nextSeq = Math.max(report.lastSeq + 1, lastSegSeq) + skipSeqs;
  return { ...report, segmentSeqs: segs.map((s) => s[0]), nextSeq, sealLast };
}

/**
 * Replay: every record with seq > afterSeq, in seq order, each once. Read-only: damage is
 * recorded in `report` (pass one to see it) and skipped as described above.
 */
export function* readWal(
  dir: string,
  opts: { afterSeq?: number; fs?: SinkFs; report?: WalReport } = {},
): Generator<WalRecord, void, undefined> {
  const fs = opts.fs ?? nodeSinkFs;
  const afterSeq = opts.afterSeq ?? 0;
  const report = opts.report ?? emptyReport();
  const order = new SeqOrder(report);
  const decoder = new TextDecoder();
  const segs = listSegments(fs, dir);
  let started = false;
  for (let i = 0; i < segs.length; i++) {
    const [first, name] = segs[i]!;
    const next = segs[i + 1];
    if (next !== undefined && next[0] - 1 <= afterSeq) continue; // wholly replayed already
    if (!started) order.last = first - 1;
    started = true;
    const bytes = fs.readFile(`${dir}/${name}`);
    const c = new SegmentCursor(bytes);
    report.segments++;
    while (c.next()) {
      if (c.seq <= afterSeq) {
        order.last = c.seq;
        continue;
      }
      if (!order.accept(c.seq, name, c.recordStart)) continue;
      const payload = decoder.decode(bytes.subarray(c.payloadStart, c.payloadEnd));
      yield { seq: c.seq, recvTimeUs: c.recvTimeUs, tag: c.tag, payload };
    }
    if (c.stop !== null) addProblem(report, stopProblem(c, name, bytes.length, "skipped"));
  }
}
