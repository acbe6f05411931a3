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
import { controlViews, F, type FromWorker, I, type ToWorker } from "./worker-protocol.ts";

declare const self: Worker;

/** Retry and due-check period: the inline path's owner flushes every 5 ms (pipeline/storage.ts). */
const TICK_MS = 5;
/** The real fs, except after a test's setFaults: its calls then go through a FaultyFs. */
const fs: SinkFs = { ...nodeSinkFs };

interface Pending {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly start: number;
  readonly end: number;
  readonly lastSeq: number;
  /** Half whose done slot to advance, or -1 for an oversize record. */
  readonly half: number;
  /** Bytes of [start, end) already on disk (a short write or a failure midway). */
  pos: number;
  sealed: boolean;
}

let data: Uint8Array;
let dataDv: DataView;
let ints: Int32Array;
let floats: Float64Array;
let dir = "";
let limits: WalLimits;
let fd = -1;
let segFirstSeq = 0;
let segOpenedAt = 0;
let syncer: Syncer;
let writtenSeq = 0;
let writeFailing = false;
let closing = false;
const queue: Pending[] = [];
let timer: ReturnType<typeof setInterval> | undefined;

const post = (m: FromWorker): void => self.postMessage(m);

function fail(op: string, path: string, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  post({ t: "error", op, path, message, ...(code ? { code } : {}) });
}

const activePath = (): string => `${dir}/${segmentName(segFirstSeq)}`;

function publish(): void {
  floats[F.writtenSeq] = writtenSeq;
  floats[F.durableSeq] = syncer.durableSeq;
}

/** Write queued records in order; false (and the error reported) when a write fails. */
function pump(): boolean {
  while (queue.length > 0) {
    const p = queue[0]!;
    if (!p.sealed) {
      sealRecords(p.bytes, p.dv, p.start, p.end);
      p.sealed = true;
    }
    while (p.pos < p.end) {
      const segBytes = floats[F.segmentBytes]!;
      let n: number;
      try {
        n = fs.write(fd, p.bytes, p.pos, p.end - p.pos, segBytes);
        if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
      } catch (err) {
        Atomics.add(ints, I.writeErrors, 1);
        if (!writeFailing) {
          Atomics.store(ints, I.writeFailing, 1);
          // An append waiting for a half (worker-writer.ts #switchHalf) stops waiting: refuse.
          Atomics.notify(ints, I.done0);
          Atomics.notify(ints, I.done1);
        }
        writeFailing = true;
        fail("write", activePath(), err);
        return false;
      }
      p.pos += n;
      floats[F.segmentBytes] = segBytes + n;
    }
    queue.shift();
    writtenSeq = p.lastSeq;
    floats[F.writtenSeq] = writtenSeq;
    // The main thread may reuse these bytes from here.
    if (p.half >= 0) {
      const slot = p.half === 0 ? I.done0 : I.done1;
      Atomics.store(ints, slot, p.end);
      Atomics.notify(ints, slot); // an append waiting for this half (worker-writer.ts #switchHalf)
    } else Atomics.store(ints, I.oversize, 0);
  }
  if (writeFailing) {
    writeFailing = false;
    Atomics.store(ints, I.writeFailing, 0);
    post({ t: "recovered", op: "write" });
  }
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
  post({ t: "recovered", op: "rotate" });
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
    } else post({ t: "recovered", op: "fsync" });
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
    case "span":
      Atomics.load(ints, I.epoch); // pairs with the main thread's Atomics.add before posting
      queue.push({
        bytes: data,
        dv: dataDv,
        start: m.start,
        end: m.end,
        lastSeq: m.lastSeq,
        half: m.half,
        pos: m.start,
        sealed: false,
      });
      tick(!closing);
      return;
    case "oversize": {
      const b = m.bytes;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      queue.push({
        bytes: b,
        dv,
        start: 0,
        end: b.length,
        lastSeq: m.lastSeq,
        half: -1,
        pos: 0,
        sealed: false,
      });
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
