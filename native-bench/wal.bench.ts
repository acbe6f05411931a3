/**
 * WAL append cost per frame (src/sink/wal/writer.ts) against the envelope encoded with
 * @msgpack/msgpack in the same run, which answers issue 5's "msgpack for the envelope?": the
 * ratio says what the hand-written record (format.ts) saves. Also the two choices inside
 * append: the CRC (JS table vs Bun.hash.crc32 on a subarray) and the UTF-8 encoder.
 *
 * "null fs" measures the CPU cost (encode + checksum + buffer bookkeeping) with writes
 * discarded; "file" adds the real pwrite of each full 1 MiB buffer to a temp folder, segments
 * deleted as they seal so disk use stays bounded. fsync is left out of "file": a synchronous
 * bench loop never lets the async fsync callbacks run, so each rotation's fsyncSync would flush
 * a whole segment at once (≈ +400 ns/op on this disk) — a disk figure, not one of this code.
 *
 * "worker path" is the default writer (worker-writer.ts): append plus a flush (a hand-over to
 * the Worker) every 64 frames on the calling thread, while the Worker checksums, pwrites and
 * fsyncs (every 100 ms) a real file. Alone, the loop outruns the Worker and append waits for
 * it, so that case reads the Worker's throughput. The "+ 1 µs work" cases give each frame a
 * fixed stand-in for decode (as in K2, where the Worker keeps up): case − "1 µs work alone" is
 * the WAL's cost on the calling thread, inline (pwrite, no fsync) vs worker path. The inline
 * cases pass an `fs` and so take the inline path (writer.ts), the main thread's whole WAL cost
 * before issue 15.
 *
 * Allocation: append reads 0 B/op; a cross-check with BUN_JSC_logGC=1 shows 5 M appends start
 * no collection (JSC collects every 8 MB allocated), i.e. < 2 bytes per frame.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Encoder } from "@msgpack/msgpack";
import { crc32Table } from "../src/sink/wal/format.ts";
import { nodeSinkFs, type SinkFs } from "../src/sink/wal/fs.ts";
import { WalWriter } from "../src/sink/wal/writer.ts";
import type { BenchSuite } from "./harness.ts";

const OPS = 1_000_000;
// A combined-stream trade frame as Binance sends it (170 chars).
const FRAME =
  '{"stream":"btcusdt@trade","data":{"e":"trade","E":1700000000123,"s":"BTCUSDT","t":3000000001,"p":"43123.45000000","q":"0.00123000","T":1700000000122,"m":true,"M":true}}';
const RECV_US = 1_700_000_000_123_456;
/** Results land here so the JIT cannot drop the measured calls. */
const SINK = new Float64Array(1);

/** Accepts every call and stores nothing: append's CPU cost alone. */
const nullFs: SinkFs = {
  open: () => 1000,
  write: (_fd, _buf, _off, length) => length,
  fsync: (_fd, done) => done(null),
  fsyncSync: () => {},
  truncate: () => {},
  close: () => {},
  size: () => 0,
  readFile: () => new Uint8Array(0),
  unlink: () => {},
  unlinkAsync: (_path, done) => done(null),
  rename: () => {},
  readdir: () => [],
  mkdirp: () => {},
  fsyncDir: () => {},
  fsyncDirAsync: (_dir, done) => done(null),
};

/** `bytes`: appendBytes, the frame as the socket's UTF-8 bytes (K2's raw client), not a string. */
function walCase(name: string, fs: SinkFs, dir: string, bytes = false) {
  const frameBytes = Buffer.from(FRAME);
  return {
    name,
    ops: OPS,
    setup: () => {
      const w = WalWriter.open({ dir, fs, segmentMaxBytes: 4 * 1024 * 1024, bufferBytes: 1024 * 1024 });
      return (i: number) => {
        if (bytes) w.appendBytes(frameBytes, 0, frameBytes.length, RECV_US, 0);
        else w.append(FRAME, RECV_US, 0);
        if ((i & 0xffff) === 0) w.deleteUpTo(w.status().writtenSeq);
      };
    },
  };
}

/**
 * The default path. A synchronous loop never lets the writer's messages in, so it never learns
 * of rotations for deleteUpTo: sealed segments are removed here from the listing instead.
 */
function workerCase(name: string, dir: string, work = false) {
  return {
    name,
    ops: 200_000,
    setup: () => {
      mkdirSync(dir, { recursive: true });
      const w = WalWriter.open({ dir, segmentMaxBytes: 4 * 1024 * 1024, fsyncIntervalMs: 100 });
      return (i: number) => {
        if (work) busyWork(i);
        w.append(FRAME, RECV_US, 0);
        if ((i & 63) === 0) w.flush();
        if ((i & 0x3fff) === 0) {
          const names = readdirSync(dir)
            .filter((n) => n.endsWith(".wal"))
            .sort();
          for (const n of names.slice(0, -2)) unlinkSync(join(dir, n));
        }
      };
    },
  };
}

/** A fixed ~1 µs of CPU per frame, standing in for decode and the rest of the hot path. */
const WORK_ROUNDS = 400;
function busyWork(i: number): void {
  let x = i | 1;
  for (let k = 0; k < WORK_ROUNDS; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  SINK[0] = x;
}

const workAlone = { name: "1 µs work alone", ops: 200_000, setup: () => busyWork };

function inlineWithWork(name: string, dir: string) {
  return {
    name,
    ops: 200_000,
    setup: () => {
      const w = WalWriter.open({
        dir,
        fs: pwriteOnlyFs,
        segmentMaxBytes: 4 * 1024 * 1024,
        bufferBytes: 1024 * 1024,
      });
      return (i: number) => {
        busyWork(i);
        w.append(FRAME, RECV_US, 0);
        if ((i & 0xffff) === 0) w.deleteUpTo(w.status().writtenSeq);
      };
    },
  };
}

const pwriteOnlyFs: SinkFs = {
  ...nodeSinkFs,
  fsync: (_fd, done) => done(null),
  fsyncSync: () => {},
  // A synchronous loop never runs the thread pool's callbacks, so the background unlink would
  // never finish and the folder would fill: unlink at once here (and, like every fsync in this
  // case, skip the folder's).
  unlinkAsync: (path, done) => {
    nodeSinkFs.unlink(path);
    done(null);
  },
  fsyncDirAsync: (_dir, done) => done(null),
};

const tmp = mkdtempSync(join(tmpdir(), "k2-walbench-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

/** The same record built from a msgpack envelope: len + crc + msgpack({seq, recv, tag, frame}). */
function msgpackCase(name: string, framed: boolean) {
  return {
    name,
    ops: OPS,
    setup: () => {
      const enc = new Encoder();
      const buf = new Uint8Array(1024 * 1024);
      const dv = new DataView(buf.buffer);
      let off = 0;
      let seq = 0;
      return () => {
        const bytes = enc.encode({ seq: ++seq, recv: RECV_US, tag: 0, frame: FRAME });
        if (!framed) return;
        if (off + 8 + bytes.length > buf.length) off = 0;
        buf.set(bytes, off + 8);
        dv.setUint32(off, bytes.length, true);
        dv.setUint32(off + 4, crc32Table(buf, off + 8, off + 8 + bytes.length), true);
        off += 8 + bytes.length;
      };
    },
  };
}

function crcCase(name: string, len: number, native: boolean) {
  return {
    name,
    ops: OPS,
    setup: () => {
      const b = new Uint8Array(4096).map((_, i) => i * 31);
      return (i: number) => {
        const s = (i & 7) * 8;
        SINK[0] = native ? Bun.hash.crc32(b.subarray(s, s + len)) : crc32Table(b, s, s + len);
      };
    },
  };
}

type Utf8Buffer = Buffer & { utf8Write: (s: string, offset: number) => number };
function utf8Case(name: string, how: "utf8Write" | "write" | "encodeInto") {
  return {
    name,
    ops: OPS,
    setup: () => {
      const buf = Buffer.allocUnsafeSlow(1024 * 1024) as Utf8Buffer;
      const te = new TextEncoder();
      return (i: number) => {
        const off = (i & 1023) * 256;
        if (how === "utf8Write") SINK[0] = buf.utf8Write(FRAME, off);
        else if (how === "write") SINK[0] = buf.write(FRAME, off, "utf8");
        else SINK[0] = te.encodeInto(FRAME, buf.subarray(off)).written;
      };
    },
  };
}

export const suite: BenchSuite = {
  title: "wal",
  cases: [
    walCase("wal append (null fs)", nullFs, join(tmp, "null")),
    walCase("wal appendBytes (null fs)", nullFs, join(tmp, "null-bytes"), true),
    walCase("wal append + pwrite (file)", pwriteOnlyFs, join(tmp, "file")),
    workerCase("wal append + flush/64, worker path (main thread)", join(tmp, "worker")),
    workAlone,
    inlineWithWork("1 µs work + wal append + pwrite (inline)", join(tmp, "file-work")),
    workerCase("1 µs work + wal append + flush/64 (worker path)", join(tmp, "worker-work"), true),
    msgpackCase("msgpack envelope + len/crc", true),
    msgpackCase("msgpack encode only", false),
    crcCase("crc32 table 185 B", 185, false),
    crcCase("crc32 Bun.hash subarray 185 B", 185, true),
    crcCase("crc32 table 1 KiB", 1024, false),
    crcCase("crc32 Bun.hash subarray 1 KiB", 1024, true),
    utf8Case("utf8 Buffer#utf8Write", "utf8Write"),
    utf8Case("utf8 Buffer#write", "write"),
    utf8Case("utf8 TextEncoder.encodeInto", "encodeInto"),
  ],
  ratios: [
    { subject: "wal append (null fs)", baseline: "msgpack envelope + len/crc", target: 1 },
    { subject: "wal append (null fs)", baseline: "msgpack encode only" },
    { subject: "wal append + pwrite (file)", baseline: "msgpack envelope + len/crc" },
    { subject: "wal append + flush/64, worker path (main thread)", baseline: "wal append + pwrite (file)" },
    { subject: "wal append + flush/64, worker path (main thread)", baseline: "wal append (null fs)" },
    {
      subject: "1 µs work + wal append + flush/64 (worker path)",
      baseline: "1 µs work + wal append + pwrite (inline)",
    },
    { subject: "crc32 table 185 B", baseline: "crc32 Bun.hash subarray 185 B" },
    { subject: "crc32 table 1 KiB", baseline: "crc32 Bun.hash subarray 1 KiB" },
    { subject: "utf8 Buffer#utf8Write", baseline: "utf8 TextEncoder.encodeInto" },
  ],
};
