/**
 * The default WAL writer: the calling thread only copies each frame's UTF-8 bytes and the fixed
 * header into a SharedArrayBuffer (format.ts encodeUnsealed, no checksum); flush() hands the new
 * bytes to a Worker (wal-worker.ts) with one Atomics store; the worker, polling every tick,
 * fills the CRCs, pwrites, rotates and fsyncs. Same records, segments and semantics as
 * inline-writer.ts:
 * - The buffer is two halves of bufferBytes/2 (worker-protocol.ts). append writes past what the
 *   current half has handed over; when the half is full, append flushes and moves to the other
 *   half once the worker has written all of it and moved on, else refuses with -1 (both halves
 *   held back by a failing disk; a disk that is only behind gets a bounded wait).
 * - writtenSeq, durableSeq and the error counters are read from the shared control block
 *   without waiting; errors arrive as messages into the same ErrorLatch the inline path uses.
 * - sync() and close() await the worker; the worker is unref'd except while they wait, so it
 *   never keeps a process alive, and close() terminates it.
 */
import { ErrorLatch, reportRefusal, type SinkError } from "./errors.ts";
import type { FsFaults } from "./faulty-fs.ts";
import {
  encodeUnsealed,
  encodeUnsealedBytes,
  MAGIC_BYTES,
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  segmentName,
  type Utf8Buffer,
} from "./format.ts";
import { nodeSinkFs } from "./fs.ts";
import { type WalStatus, type WalWriter, type WalWriterOptions, walLimits } from "./options.ts";
import { recoverWal, type WalRecovery } from "./reader.ts";
import { createSegment, SegmentDeleter } from "./segments.ts";
import {
  CONTROL_BYTES,
  controlViews,
  doneSlot,
  F,
  type FromWorker,
  handSlot,
  I,
  type ToWorker,
} from "./worker-protocol.ts";

const WORKER_URL = new URL("./wal-worker.ts", import.meta.url).href;
const fs = nodeSinkFs;
/** How long append waits for the worker to free a half while writes are not failing. */
const BEHIND_WAIT_MS = 1000;

export class WorkerWalWriter implements WalWriter {
  readonly recovery: WalRecovery;
  readonly #dir: string;
  readonly #errors: ErrorLatch;
  readonly #buf: Utf8Buffer;
  readonly #dv: DataView;
  readonly #ints: Int32Array;
  readonly #floats: Float64Array;
  readonly #half: number; // bytes per half
  readonly #worker: Worker;
  #cur = 0;
  #pos = 0; // absolute end of encoded bytes in the current half
  #handed = 0; // absolute end of what the current half has handed over (its hand slot)
  #nextSeq: number;
  readonly #segments: number[]; // first seq of each segment; the last is active
  readonly #deleter: SegmentDeleter;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #dead = false;
  #appended = 0;
  #refused = 0;
  #refusedBytes = 0;
  #nextId = 0;
  readonly #waiting = new Map<number, (durable: number) => void>();

  static open(opts: WalWriterOptions): WorkerWalWriter {
    return new WorkerWalWriter(opts, recoverWal(opts.dir, fs));
  }

  private constructor(opts: WalWriterOptions, recovery: WalRecovery) {
    const limits = walLimits(opts);
    this.recovery = recovery;
    this.#dir = opts.dir;
    this.#errors = new ErrorLatch(opts.onError);
    this.#half = Math.floor(limits.bufferBytes / 2);
    const data = new SharedArrayBuffer(this.#half * 2);
    this.#buf = Buffer.from(data) as Utf8Buffer;
    this.#dv = new DataView(data);
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    ({ ints: this.#ints, floats: this.#floats } = controlViews(control));
    this.#ints[I.hand1] = this.#ints[I.done1] = this.#half;
    this.#nextSeq = recovery.nextSeq;
    this.#segments = [...recovery.segmentSeqs];
    this.#deleter = new SegmentDeleter(fs, opts.dir, this.#errors);
    // The active segment is opened here, as the inline path does, so open() still throws on a
    // folder it cannot use; the worker gets the fd (one fd table per process).
    let fd: number;
    let segBytes: number;
    const last = this.#segments[this.#segments.length - 1];
    if (last === undefined || recovery.sealLast) {
      fd = createSegment(fs, this.#dir, this.#nextSeq);
      this.#segments.push(this.#nextSeq);
      segBytes = MAGIC_BYTES.length;
    } else {
      fd = fs.open(this.#path(last), false, false);
      segBytes = fs.size(fd);
      fs.fsyncSync(fd); // what survived a crash in the page cache is durable from here
    }
    this.#floats[F.writtenSeq] = this.#floats[F.durableSeq] = recovery.nextSeq - 1;
    this.#floats[F.segmentBytes] = segBytes;
    this.#worker = new Worker(WORKER_URL);
    this.#worker.unref();
    this.#worker.onmessage = (ev: MessageEvent<FromWorker>) => this.#onMessage(ev.data);
    this.#worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#onCrash(ev.message);
    };
    const init: ToWorker = {
      t: "init",
      data,
      control,
      dir: this.#dir,
      fd,
      segmentFirstSeq: this.#segments[this.#segments.length - 1]!,
      limits,
    };
    this.#worker.postMessage(init);
    if (limits.flushIntervalMs > 0) {
      this.#timer = setInterval(() => this.flush(), limits.flushIntervalMs);
      this.#timer.unref?.();
    }
  }

  append(frame: string, recvTimeUs: number, tag: number): number {
    if (this.#closed) return this.#refuse(0, "closed", "append after close");
    // UTF-8 takes at most 3 bytes per UTF-16 unit: the cheap bound settles most frames.
    let need = RECORD_HEADER_BYTES + frame.length * 3;
    const room = (this.#cur + 1) * this.#half - this.#pos;
    if (need > room) {
      const payload = Buffer.byteLength(frame, "utf8");
      if (payload > MAX_PAYLOAD_BYTES)
        return this.#refuse(payload, "too_large", `frame of ${payload} bytes > ${MAX_PAYLOAD_BYTES}`);
      need = RECORD_HEADER_BYTES + payload;
      if (need > room) {
        this.flush();
        if (need > this.#half) return this.#appendOversize(frame, recvTimeUs, tag, need);
        if (!this.#switchHalf()) return this.#refuse(need, "buffer_full", "");
      }
    }
    const seq = this.#nextSeq;
    this.#pos = encodeUnsealed(this.#buf, this.#dv, this.#pos, frame, recvTimeUs, tag, seq);
    return this.#took(seq);
  }

  appendBytes(src: Buffer, start: number, end: number, recvTimeUs: number, tag: number): number {
    if (this.#closed) return this.#refuse(0, "closed", "append after close");
    const need = RECORD_HEADER_BYTES + (end - start);
    const room = (this.#cur + 1) * this.#half - this.#pos;
    if (need > room) {
      // Rare (a socket frame is far smaller than a half): the string path's bounds and oversize
      // handling, on the same bytes (valid UTF-8 re-encodes to itself).
      if (need > this.#half) return this.append(src.toString("utf8", start, end), recvTimeUs, tag);
      this.flush();
      if (!this.#switchHalf()) return this.#refuse(need, "buffer_full", "");
    }
    const seq = this.#nextSeq;
    this.#pos = encodeUnsealedBytes(this.#buf, this.#dv, this.#pos, src, start, end, recvTimeUs, tag, seq);
    return this.#took(seq);
  }

  /** Record `seq` as appended (its record is in the buffer); returns it. */
  #took(seq: number): number {
    this.#nextSeq = seq + 1;
    this.#appended++;
    return seq;
  }

  flush(): boolean {
    if (this.#dead) return false;
    if (this.#pos > this.#handed) {
      Atomics.store(this.#ints, handSlot(this.#cur), this.#pos); // orders the bytes before it
      this.#handed = this.#pos;
    }
    return Atomics.load(this.#ints, I.writeFailing) === 0;
  }

  async sync(): Promise<number> {
    this.flush();
    return this.#request("sync");
  }

  durableSeq(): number {
    return this.#floats[F.durableSeq]!;
  }

  get lastError(): SinkError | null {
    return this.#errors.lastError;
  }

  status(): WalStatus {
    const ints = this.#ints;
    const other = 1 - this.#cur;
    const held = Atomics.load(ints, handSlot(other)) - Atomics.load(ints, doneSlot(other));
    return {
      nextSeq: this.#nextSeq,
      writtenSeq: this.#floats[F.writtenSeq]!,
      durableSeq: this.#floats[F.durableSeq]!,
      bufferedBytes: this.#pos - Atomics.load(ints, doneSlot(this.#cur)) + held,
      bufferCapacity: this.#half * 2,
      segment: segmentName(this.#segments[this.#segments.length - 1] ?? this.#nextSeq),
      segmentBytes: this.#floats[F.segmentBytes]!,
      segments: this.#segments.length + this.#deleter.pending,
      appended: this.#appended,
      refused: this.#refused,
      refusedBytes: this.#refusedBytes,
      writeErrors: Atomics.load(ints, I.writeErrors),
      fsyncErrors: Atomics.load(ints, I.fsyncErrors),
      lastError: this.#errors.lastError,
    };
  }

  deleteUpTo(seq: number): number {
    return this.#deleter.upTo(this.#segments, seq);
  }

  deletions(): Promise<void> {
    return this.#deleter.idle();
  }

  async close(): Promise<number> {
    if (this.#closed) return this.durableSeq();
    this.#closed = true; // append refuses from here
    if (this.#timer) clearInterval(this.#timer);
    this.flush();
    const durable = await this.#request("close");
    this.#worker.terminate();
    await this.#deleter.idle(); // no unlink left running behind a closed writer
    return durable;
  }

  async retire(): Promise<void> {
    await this.close();
    await this.#deleter.all(this.#segments);
  }

  #path(firstSeq: number): string {
    return `${this.#dir}/${segmentName(firstSeq)}`;
  }

  /**
   * Move to the other half once the worker is done with it: it has written everything handed
   * over there and moved on to the current half (so it will not miss the switch). A healthy
   * disk that is merely behind (a rotation's fsync, a burst) gets a bounded wait, as the inline
   * path blocks in pwrite; a failing one gets none: refuse, and the caller ledgers the loss.
   */
  #switchHalf(): boolean {
    const ints = this.#ints;
    const other = 1 - this.#cur;
    let t0 = 0;
    let kicked = false;
    for (;;) {
      const seen = Atomics.load(ints, I.progress);
      const free =
        Atomics.load(ints, I.wcur) === this.#cur &&
        Atomics.load(ints, doneSlot(other)) === Atomics.load(ints, handSlot(other));
      if (free) break;
      if (this.#dead || Atomics.load(ints, I.writeFailing) !== 0) return false;
      const now = performance.now();
      if (t0 === 0) t0 = now;
      else if (now - t0 >= BEHIND_WAIT_MS) return false;
      if (!kicked) this.#post({ t: "kick" });
      kicked = true;
      Atomics.wait(ints, I.progress, seen, 10);
    }
    const base = other * this.#half;
    Atomics.store(ints, doneSlot(other), base);
    Atomics.store(ints, handSlot(other), base);
    Atomics.store(ints, I.cur, other); // after the reset: the worker reads cur, then the slots
    this.#cur = other;
    this.#pos = this.#handed = base;
    this.#errors.recovered("append"); // refusals (if any) ended: report the next streak again
    return true;
  }

  /** A record bigger than a half travels alone in its own buffer; one at a time. */
  #appendOversize(frame: string, recvTimeUs: number, tag: number, need: number): number {
    if (this.#dead || Atomics.load(this.#ints, I.oversize) !== 0)
      return this.#refuse(need, "buffer_full", "");
    const bytes: Utf8Buffer = Buffer.allocUnsafeSlow(need);
    const seq = this.#nextSeq;
    encodeUnsealed(bytes, new DataView(bytes.buffer, bytes.byteOffset, need), 0, frame, recvTimeUs, tag, seq);
    // It goes to the file right after what is handed over now; the flag is stored last.
    this.flush();
    Atomics.store(this.#ints, I.oversizeHalf, this.#cur);
    Atomics.store(this.#ints, I.oversizeAt, this.#handed);
    Atomics.store(this.#ints, I.oversize, 1);
    this.#post({ t: "oversize", bytes }, [bytes.buffer as ArrayBuffer]);
    this.#nextSeq = seq + 1;
    this.#appended++;
    return seq;
  }

  #post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(m, transfer);
  }

  /** Tests only: the worker's writes and fsyncs fail as told (FaultyFs switches). */
  async setFaults(faults: FsFaults): Promise<void> {
    await this.#request("faults", faults);
  }

  #request(t: "sync" | "close" | "faults", faults: FsFaults = {}): Promise<number> {
    if (this.#dead) return Promise.resolve(this.durableSeq());
    const id = ++this.#nextId;
    if (this.#waiting.size === 0) this.#worker.ref(); // keep the process up until the reply
    const reply = new Promise<number>((resolve) => this.#waiting.set(id, resolve));
    this.#post(t === "faults" ? { t, id, faults } : { t, id });
    return reply;
  }

  #settle(id: number, durable: number): void {
    const resolve = this.#waiting.get(id);
    if (!resolve) return;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0 && !this.#dead) this.#worker.unref();
    resolve(durable);
  }

  #onMessage(m: FromWorker): void {
    switch (m.t) {
      case "error":
        this.#errors.fail(m.op, m.path, Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
        return;
      case "recovered":
        this.#errors.recovered(m.op);
        return;
      case "rotated":
        this.#segments.push(m.firstSeq);
        return;
      case "reply":
        this.#settle(m.id, m.durableSeq);
        return;
    }
  }

  /** The worker died: nothing more is written; waiters get the last durableSeq. */
  #onCrash(message: string): void {
    this.#dead = true;
    this.#errors.report({
      kind: "io",
      retryable: false,
      op: "write",
      message: `WAL writer thread died: ${message}`,
    });
    for (const id of [...this.#waiting.keys()]) this.#settle(id, this.durableSeq());
    this.#worker.terminate();
  }

  #refuse(bytes: number, kind: "buffer_full" | "too_large" | "closed", detail: string): -1 {
    this.#refused++;
    this.#refusedBytes += bytes;
    reportRefusal(this.#errors, kind, detail, this.#half * 2);
    return -1;
  }
}
