/**
 * The WAL writer on the calling thread (the default, and the path a test that injects `fs` or
 * `nowMs` gets; worker-writer.ts is the opt-in K2_WAL_WORKER=true path, writer.ts picks): raw
 * frames in, length-prefixed checksummed records out (format.ts), before
 * they are decoded into the ring. append() encodes into one preallocated buffer; flush() writes
 * it (pwrite) and starts an fsync at most every fsyncIntervalMs; durableSeq() is what an fsync
 * has confirmed. A failing disk never throws out of append/flush: bytes stay in the bounded
 * buffer, the error is reported (lastError, onError), the next flush retries, and once the
 * buffer is full append refuses with -1 so the caller can record the loss for REST repair.
 * Segments whose rows Parquet holds go in the background (deleteUpTo, SegmentDeleter).
 */
import { ErrorLatch, reportRefusal, type SinkError } from "./errors.ts";
import {
  encodeRecord,
  encodeRecordBytes,
  MAGIC_BYTES,
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  segmentName,
  type Utf8Buffer,
} from "./format.ts";
import { nodeSinkFs, type SinkFs } from "./fs.ts";
import {
  type WalLimits,
  type WalStatus,
  type WalWriter,
  type WalWriterOptions,
  walLimits,
} from "./options.ts";
import { recoverWal, type WalRecovery } from "./reader.ts";
import { createSegment, fsyncDirQuietly, SegmentDeleter } from "./segments.ts";
import { Syncer } from "./syncer.ts";

export class InlineWalWriter implements WalWriter {
  /** What recovery found on open (log it with formatWalReport). */
  readonly recovery: WalRecovery;
  readonly #dir: string;
  readonly #fs: SinkFs;
  readonly #now: () => number;
  readonly #limits: WalLimits;
  readonly #errors: ErrorLatch;
  readonly #syncer: Syncer;
  readonly #buf: Utf8Buffer;
  readonly #dv: DataView;
  #used = 0; // end of encoded bytes in #buf
  #drained = 0; // bytes of #buf already written to the file
  #bufLastSeq = 0;
  #nextSeq: number;
  #writtenSeq: number;
  readonly #segments: number[]; // first seq of each segment; the last is active
  readonly #deleter: SegmentDeleter;
  #fd = -1;
  #segBytes = 0;
  #segOpenedAt: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #appended = 0;
  #refused = 0;
  #refusedBytes = 0;
  #writeErrors = 0;
  #fsyncErrors = 0;

  /** Recover `dir` (repairing a torn tail) and continue after its last good record. */
  static open(opts: WalWriterOptions): InlineWalWriter {
    const fs = opts.fs ?? nodeSinkFs;
    return new InlineWalWriter(opts, fs, recoverWal(opts.dir, fs));
  }

  private constructor(opts: WalWriterOptions, fs: SinkFs, recovery: WalRecovery) {
    const limits = walLimits(opts);
    this.recovery = recovery;
    this.#dir = opts.dir;
    this.#fs = fs;
    this.#limits = limits;
    this.#now = opts.nowMs ?? (() => performance.now());
    this.#errors = new ErrorLatch(opts.onError);
    this.#buf = Buffer.allocUnsafeSlow(limits.bufferBytes);
    this.#dv = new DataView(this.#buf.buffer, this.#buf.byteOffset, limits.bufferBytes);
    this.#nextSeq = recovery.nextSeq;
    this.#writtenSeq = recovery.nextSeq - 1;
    this.#syncer = new Syncer(fs, limits.fsyncIntervalMs, this.#writtenSeq, (err) => {
      if (err) {
        this.#fsyncErrors++;
        this.#errors.fail("fsync", this.#activePath(), err);
      } else this.#errors.recovered("fsync");
    });
    this.#segments = [...recovery.segmentSeqs];
    this.#deleter = new SegmentDeleter(fs, opts.dir, this.#errors);
    this.#segOpenedAt = this.#now();
    const last = this.#segments[this.#segments.length - 1];
    if (last === undefined || recovery.sealLast) {
      this.#fd = createSegment(this.#fs, this.#dir, this.#nextSeq);
      this.#segments.push(this.#nextSeq);
      this.#segBytes = MAGIC_BYTES.length;
    } else {
      this.#fd = fs.open(this.#path(last), false, false);
      this.#segBytes = fs.size(this.#fd);
      fs.fsyncSync(this.#fd); // what survived a crash in the page cache is durable from here
    }
    if (limits.flushIntervalMs > 0) {
      this.#timer = setInterval(() => this.flush(), limits.flushIntervalMs);
      this.#timer.unref?.();
    }
  }

  /**
   * Log one frame; returns its seq, or -1 when refused (buffer full while writes fail, frame
   * over MAX_PAYLOAD_BYTES, or closed). Allocation-free unless the frame exceeds the buffer.
   */
  append(frame: string, recvTimeUs: number, tag: number): number {
    if (this.#closed) return this.#refuse(0, "closed", "append after close");
    // UTF-8 takes at most 3 bytes per UTF-16 unit: the cheap bound settles most frames.
    let need = RECORD_HEADER_BYTES + frame.length * 3;
    if (need > this.#buf.length - this.#used) {
      const payload = Buffer.byteLength(frame, "utf8");
      if (payload > MAX_PAYLOAD_BYTES)
        return this.#refuse(payload, "too_large", `frame of ${payload} bytes > ${MAX_PAYLOAD_BYTES}`);
      need = RECORD_HEADER_BYTES + payload;
      if (need > this.#buf.length - this.#used) {
        this.flush();
        if (need > this.#buf.length) return this.#appendOversize(frame, recvTimeUs, tag, need);
        if (need > this.#buf.length - this.#used) return this.#refuse(need, "buffer_full", "");
      }
    }
    const seq = this.#nextSeq;
    this.#used = encodeRecord(this.#buf, this.#dv, this.#used, frame, recvTimeUs, tag, seq);
    return this.#took(seq);
  }

  appendBytes(src: Buffer, start: number, end: number, recvTimeUs: number, tag: number): number {
    if (this.#closed) return this.#refuse(0, "closed", "append after close");
    const need = RECORD_HEADER_BYTES + (end - start);
    if (need > this.#buf.length - this.#used) {
      // Rare (a socket frame is far smaller than the buffer): the string path's bounds and
      // oversize handling, on the same bytes (valid UTF-8 re-encodes to itself).
      if (need > this.#buf.length) return this.append(src.toString("utf8", start, end), recvTimeUs, tag);
      this.flush();
      if (need > this.#buf.length - this.#used) return this.#refuse(need, "buffer_full", "");
    }
    const seq = this.#nextSeq;
    this.#used = encodeRecordBytes(this.#buf, this.#dv, this.#used, src, start, end, recvTimeUs, tag, seq);
    return this.#took(seq);
  }

  /** Record `seq` as appended (its record is in the buffer); returns it. */
  #took(seq: number): number {
    this.#bufLastSeq = seq;
    this.#nextSeq = seq + 1;
    this.#appended++;
    return seq;
  }

  /** Write what is buffered, rotate when due, start an fsync when due. False while writes fail. */
  flush(): boolean {
    return this.#flush(!this.#closed);
  }

  #flush(mayRotate: boolean): boolean {
    if (this.#fd < 0) return false;
    if (!this.#drain()) return false;
    const now = this.#now();
    const hasRecords = this.#nextSeq > this.#segments[this.#segments.length - 1]!;
    const { segmentMaxBytes, segmentMaxAgeMs } = this.#limits;
    const due = this.#segBytes >= segmentMaxBytes || now - this.#segOpenedAt >= segmentMaxAgeMs;
    if (mayRotate && hasRecords && due) this.#rotate(now);
    this.#syncer.maybeStart(this.#fd, this.#writtenSeq, now, false);
    return true;
  }

  /** Flush and fsync now, whatever the interval; resolves with durableSeq. */
  async sync(): Promise<number> {
    this.#flush(!this.#closed);
    await this.#syncer.idle();
    this.#syncer.maybeStart(this.#fd, this.#writtenSeq, this.#now(), true);
    await this.#syncer.idle();
    return this.#syncer.durableSeq;
  }

  durableSeq(): number {
    return this.#syncer.durableSeq;
  }

  get lastError(): SinkError | null {
    return this.#errors.lastError;
  }

  status(): WalStatus {
    const active = this.#segments[this.#segments.length - 1] ?? this.#nextSeq;
    return {
      nextSeq: this.#nextSeq,
      writtenSeq: this.#writtenSeq,
      durableSeq: this.#syncer.durableSeq,
      bufferedBytes: this.#used - this.#drained,
      bufferCapacity: this.#buf.length,
      segment: segmentName(active),
      segmentBytes: this.#segBytes,
      segments: this.#segments.length + this.#deleter.pending,
      appended: this.#appended,
      refused: this.#refused,
      refusedBytes: this.#refusedBytes,
      writeErrors: this.#writeErrors,
      fsyncErrors: this.#fsyncErrors,
      lastError: this.#errors.lastError,
    };
  }

  deleteUpTo(seq: number): number {
    return this.#deleter.upTo(this.#segments, seq);
  }

  deletions(): Promise<void> {
    return this.#deleter.idle();
  }

  /** Flush, fsync and close. Records above the returned durableSeq were not persisted. */
  async close(): Promise<number> {
    if (this.#closed) return this.#syncer.durableSeq;
    this.#closed = true; // append refuses from here; no rotation leaves an empty segment behind
    if (this.#timer) clearInterval(this.#timer);
    const durable = await this.sync();
    this.#fs.close(this.#fd);
    this.#fd = -1;
    await this.#deleter.idle(); // no unlink left running behind a closed writer
    return durable;
  }

  /**
   * Close, then delete every segment: for a caller that made every record visible elsewhere (a
   * K2 handing its data dir over), so its successor has nothing to replay.
   */
  async retire(): Promise<void> {
    await this.close();
    await this.#deleter.all(this.#segments);
  }

  #path(firstSeq: number): string {
    return `${this.#dir}/${segmentName(firstSeq)}`;
  }

  #activePath(): string {
    return this.#path(this.#segments[this.#segments.length - 1] ?? this.#nextSeq);
  }

  #drain(): boolean {
    const fs = this.#fs;
    while (this.#drained < this.#used) {
      let n: number;
      try {
        n = fs.write(this.#fd, this.#buf, this.#drained, this.#used - this.#drained, this.#segBytes);
        if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
      } catch (err) {
        this.#writeErrors++;
        this.#errors.fail("write", this.#activePath(), err);
        return false;
      }
      this.#drained += n;
      this.#segBytes += n;
    }
    if (this.#used > 0) {
      this.#writtenSeq = this.#bufLastSeq;
      this.#used = this.#drained = 0;
      this.#errors.recovered("write");
    }
    return true;
  }

  /** A frame bigger than the whole buffer: encode it alone and write it straight through. */
  #appendOversize(frame: string, recvTimeUs: number, tag: number, need: number): number {
    if (this.#used > 0) return this.#refuse(need, "buffer_full", "");
    const tmp: Utf8Buffer = Buffer.allocUnsafe(need);
    const seq = this.#nextSeq;
    const end = encodeRecord(
      tmp,
      new DataView(tmp.buffer, tmp.byteOffset, need),
      0,
      frame,
      recvTimeUs,
      tag,
      seq,
    );
    const start = this.#segBytes;
    try {
      for (let done = 0; done < end; ) {
        const n = this.#fs.write(this.#fd, tmp, done, end - done, start + done);
        if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
        done += n;
      }
    } catch (err) {
      this.#writeErrors++;
      this.#errors.fail("write", this.#activePath(), err);
      try {
        this.#fs.truncate(this.#fd, start); // drop the partial record so later ones follow good bytes
      } catch {
        // pwrite at `start` overwrites it anyway; recovery treats leftovers as a torn tail
      }
      return this.#refuse(need, "buffer_full", "");
    }
    this.#segBytes = start + end;
    this.#writtenSeq = this.#bufLastSeq = seq;
    this.#nextSeq = seq + 1;
    this.#appended++;
    this.#errors.recovered("write");
    return seq;
  }

  /** Seal the active segment (fsync: everything in it becomes durable) and start the next. */
  #rotate(now: number): void {
    const old = this.#fd;
    try {
      this.#fs.fsyncSync(old);
    } catch (err) {
      this.#fsyncErrors++;
      this.#errors.fail("fsync", this.#activePath(), err);
      return; // keep appending to the old segment; the next flush tries again
    }
    if (this.#writtenSeq > this.#syncer.durableSeq) this.#syncer.durableSeq = this.#writtenSeq;
    let fd: number;
    try {
      fd = createSegment(this.#fs, this.#dir, this.#nextSeq);
    } catch (err) {
      this.#errors.fail("rotate", this.#path(this.#nextSeq), err);
      return;
    }
    fsyncDirQuietly(this.#fs, this.#dir, this.#errors);
    this.#syncer.retire(old);
    this.#fd = fd;
    this.#segments.push(this.#nextSeq);
    this.#segBytes = MAGIC_BYTES.length;
    this.#segOpenedAt = now;
    this.#errors.recovered("rotate");
  }

  #refuse(bytes: number, kind: "buffer_full" | "too_large" | "closed", detail: string): -1 {
    this.#refused++;
    this.#refusedBytes += bytes;
    reportRefusal(this.#errors, kind, detail, this.#buf.length);
    return -1;
  }
}
