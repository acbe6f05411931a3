/**
 * The WAL's writer thread (started by worker-writer.ts): takes handed spans of whole records in
 * order, fills each record's CRC-32 in place, pwrites them to the active segment, rotates and
 * starts fsyncs as inline-writer.ts does, and publishes writtenSeq / durableSeq / error counters
 * in the shared control block. A failed write keeps its span and is retried every tick, so a
 * disk that fills up and clears again loses nothing; errors go to the main thread as messages.
 */
import { FaultyFs } from "./faulty-fs.ts";
import { MAGIC_BYTES, sealRecords, segmentName } from "./format.ts";
import { nodeSinkFs, type SinkFs } from "./fs.ts";
import type { WalLimits } from "./options.ts";
import { createSegment } from "./segments.ts";
import { Syncer } from "./syncer.ts";
import { controlViews, doneSlot, F, type FromWorker, handSlot, I, type ToWorker } from "./worker-protocol.ts";

declare const self: Worker;

/**
 * Poll, retry and due-check period. Hand-overs are read here, so this bounds how stale the file
 * is (the inline path's owner flushes every 5 ms, pipeline/storage.ts); fsyncs keep their own
 * interval. An idle worker costs ~0.5–0.8 % of a core at this period.
 */
const TICK_MS = 2;
/** The real fs, except after a test's setFaults: its calls then go through a FaultyFs. */
const fs: SinkFs = { ...nodeSinkFs };

let data: Uint8Array;
let dataDv: DataView;
let half = 0; // bytes per half
let ints: Int32Array;
let floats: Float64Array;
let dir = "";
let limits: WalLimits;
let fd = -1;
let segFirstSeq = 0;
let segOpenedAt = 0;
let syncer: Syncer;
let writtenSeq = 0;
let wcur = 0; // the half being written
let wpos = 0; // absolute: bytes of the data buffer before this are on disk
let sealedTo = 0; // absolute: CRCs are filled up to here
let sealedSeq = 0; // seq of the last record sealed
let oversize: Uint8Array | null = null; // a record bigger than a half, waiting its turn
let oversizePos = 0;
let oversizeSeq = 0;
let closing = false;
/** op → its last reported error (code or message), while no success has followed. */
const failing = new Map<string, string>();
let timer: ReturnType<typeof setInterval> | undefined;

const post = (m: FromWorker): void => self.postMessage(m);

/** Report an error to the main thread, once per streak of the same error (retries run every tick). */
function fail(op: string, path: string, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const key = `${path}:${code ?? message}`;
  if (failing.get(op) === key) return;
  failing.set(op, key);
  post({ t: "error", op, path, message, ...(code ? { code } : {}) });
}

/** Tell the main thread once that `op` works again (not after every success). */
function recovered(op: string): void {
  if (failing.delete(op)) post({ t: "recovered", op });
}

const activePath = (): string => `${dir}/${segmentName(segFirstSeq)}`;

function publish(): void {
  floats[F.writtenSeq] = writtenSeq;
  floats[F.durableSeq] = syncer.durableSeq;
}

function progressed(): void {
  Atomics.add(ints, I.progress, 1);
  Atomics.notify(ints, I.progress); // an append waiting for a half (worker-writer.ts #switchHalf)
}

/** pwrite bytes[from, to) at the segment's end; returns how far it got (errors reported). */
function writeOut(bytes: Uint8Array, from: number, to: number): number {
  let pos = from;
  while (pos < to) {
    const segBytes = floats[F.segmentBytes]!;
    let n: number;
    try {
      n = fs.write(fd, bytes, pos, to - pos, segBytes);
      if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
    } catch (err) {
      Atomics.add(ints, I.writeErrors, 1);
      if (Atomics.exchange(ints, I.writeFailing, 1) === 0) progressed(); // a waiting append refuses
      fail("write", activePath(), err);
      return pos;
    }
    pos += n;
    floats[F.segmentBytes] = segBytes + n;
  }
  return pos;
}

/** Write everything handed over, in order; false (error reported) when a write fails. */
function pump(): boolean {
  for (;;) {
    // The hand slot before the flag: a hand-over past oversizeAt is stored after the flag.
    let end = Atomics.load(ints, handSlot(wcur));
    if (Atomics.load(ints, I.oversize) !== 0 && Atomics.load(ints, I.oversizeHalf) === wcur) {
      const at = Atomics.load(ints, I.oversizeAt);
      if (wpos === at) {
        if (!oversize) return true; // its message is on the way
        if (!writeOversize()) return false;
        continue;
      }
      if (end > at) end = at;
    }
    if (wpos < end) {
      if (sealedTo < end) {
        sealedSeq = sealRecords(data, dataDv, sealedTo, end);
        sealedTo = end;
      }
      wpos = writeOut(data, wpos, end);
      if (wpos < end) return false;
      writtenSeq = sealedSeq;
      floats[F.writtenSeq] = writtenSeq;
      Atomics.store(ints, doneSlot(wcur), end);
      progressed();
      continue;
    }
    // The main thread stores a half's last hand-over before it moves to the other half.
    if (Atomics.load(ints, I.cur) === wcur || Atomics.load(ints, handSlot(wcur)) !== wpos) break;
    wcur = 1 - wcur;
    wpos = sealedTo = wcur * half;
    Atomics.store(ints, I.wcur, wcur);
    progressed();
  }
  if (Atomics.load(ints, I.writeFailing) !== 0) Atomics.store(ints, I.writeFailing, 0);
  recovered("write");
  return true;
}

function writeOversize(): boolean {
  const b = oversize!;
  oversizePos = writeOut(b, oversizePos, b.length);
  if (oversizePos < b.length) return false;
  writtenSeq = oversizeSeq;
  floats[F.writtenSeq] = writtenSeq;
  oversize = null;
  Atomics.store(ints, I.oversize, 0);
  progressed();
  return true;
}

/** What the inline writer's flush does after its drain: rotate when due, fsync when due. */
function tick(mayRotate: boolean): boolean {
  if (fd < 0 || !pump()) return false;
  const now = performance.now();
  const due =
    floats[F.segmentBytes]! >= limits.segmentMaxBytes || now - segOpenedAt >= limits.segmentMaxAgeMs;
  if (mayRotate && writtenSeq >= segFirstSeq && due) rotate(now);
  syncer.maybeStart(fd, writtenSeq, now, false);
  return true;
}

/** Seal the active segment (fsync: everything in it becomes durable) and start the next. */
function rotate(now: number): void {
  const old = fd;
  try {
    fs.fsyncSync(old);
  } catch (err) {
    Atomics.add(ints, I.fsyncErrors, 1);
    fail("fsync", activePath(), err);
    return; // keep appending to the old segment; the next tick tries again
  }
  if (writtenSeq > syncer.durableSeq) syncer.durableSeq = writtenSeq;
  publish();
  const first = writtenSeq + 1;
  let next: number;
  try {
    next = createSegment(fs, dir, first);
  } catch (err) {
    fail("rotate", `${dir}/${segmentName(first)}`, err);
    return;
  }
  try {
    fs.fsyncDir(dir);
  } catch (err) {
    fail("fsync", dir, err);
  }
  syncer.retire(old);
  fd = next;
  segFirstSeq = first;
  floats[F.segmentBytes] = MAGIC_BYTES.length;
  segOpenedAt = now;
  post({ t: "rotated", firstSeq: first });
  recovered("rotate");
}

/** Write what is queued (once; a failing disk does not hold the caller), then fsync now. */
async function syncNow(mayRotate: boolean): Promise<number> {
  tick(mayRotate);
  await syncer.idle();
  syncer.maybeStart(fd, writtenSeq, performance.now(), true);
  await syncer.idle();
  publish();
  return syncer.durableSeq;
}

function init(m: ToWorker & { t: "init" }): void {
  data = new Uint8Array(m.data);
  dataDv = new DataView(m.data);
  half = m.data.byteLength / 2;
  ({ ints, floats } = controlViews(m.control));
  dir = m.dir;
  limits = m.limits;
  fd = m.fd;
  segFirstSeq = m.segmentFirstSeq;
  segOpenedAt = performance.now();
  writtenSeq = floats[F.writtenSeq]!;
  syncer = new Syncer(fs, limits.fsyncIntervalMs, floats[F.durableSeq]!, (err) => {
    if (err) {
      Atomics.add(ints, I.fsyncErrors, 1);
      fail("fsync", activePath(), err);
    } else recovered("fsync");
    publish();
  });
  timer = setInterval(() => tick(!closing), TICK_MS);
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.t) {
    case "init":
      init(m);
      return;
    case "kick":
      tick(!closing);
      return;
    case "oversize": {
      oversize = m.bytes;
      oversizePos = 0;
      const dv = new DataView(oversize.buffer, oversize.byteOffset, oversize.length);
      oversizeSeq = sealRecords(oversize, dv, 0, oversize.length);
      tick(!closing);
      return;
    }
    case "faults": {
      const faulty = new FaultyFs();
      faulty.set(m.faults);
      fs.write = faulty.write.bind(faulty);
      fs.fsync = faulty.fsync.bind(faulty);
      fs.fsyncSync = faulty.fsyncSync.bind(faulty);
      post({ t: "reply", id: m.id, durableSeq: syncer.durableSeq });
      return;
    }
    case "sync":
      post({ t: "reply", id: m.id, durableSeq: await syncNow(!closing) });
      return;
    case "close": {
      closing = true; // no rotation from here: it would leave an empty segment behind
      if (timer) clearInterval(timer);
      const durable = await syncNow(false);
      fs.close(fd);
      fd = -1;
      post({ t: "reply", id: m.id, durableSeq: durable });
      return;
    }
  }
};
