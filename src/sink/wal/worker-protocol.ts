/**
 * What the WAL's main thread (worker-writer.ts) and its Worker (wal-worker.ts) share: the
 * control block's layout and the messages. The frame bytes live in a second SharedArrayBuffer
 * split into two halves; the main thread only writes past what it has handed over, the worker
 * only touches handed spans, and a half is reused once the worker has written all of it.
 */
import type { FsFaults } from "./faulty-fs.ts";
import type { WalLimits } from "./options.ts";

/** Int32 slots of the control block (Atomics). */
export const I = {
  /** Absolute end offset of what the worker has written from half 0 / half 1. */
  done0: 0,
  done1: 1,
  /** 1 while a record too big for a half is with the worker (at most one at a time). */
  oversize: 2,
  writeErrors: 3,
  fsyncErrors: 4,
  /** 1 from a failed write until the next good one. */
  writeFailing: 5,
  /** Bumped before each hand-over and read by the worker: orders the frame bytes before it. */
  epoch: 6,
} as const;
export const INT_SLOTS = 8;

/** Float64 slots (written by the worker only; aligned element reads do not tear). */
export const F = {
  writtenSeq: 0,
  durableSeq: 1,
  segmentBytes: 2,
} as const;
export const FLOAT_SLOTS = 4;
export const CONTROL_BYTES = INT_SLOTS * 4 + FLOAT_SLOTS * 8;

export function controlViews(sab: SharedArrayBuffer): { ints: Int32Array; floats: Float64Array } {
  return {
    ints: new Int32Array(sab, 0, INT_SLOTS),
    floats: new Float64Array(sab, INT_SLOTS * 4, FLOAT_SLOTS),
  };
}

export type ToWorker =
  | {
      readonly t: "init";
      readonly data: SharedArrayBuffer;
      readonly control: SharedArrayBuffer;
      readonly dir: string;
      /** The active segment, opened (and recovered) by the main thread: fds are per process. */
      readonly fd: number;
      readonly segmentFirstSeq: number;
      readonly limits: WalLimits;
    }
  /** Records [start, end) of the data buffer, whole, CRC fields unfilled; the last is `lastSeq`. */
  | {
      readonly t: "span";
      readonly half: 0 | 1;
      readonly start: number;
      readonly end: number;
      readonly lastSeq: number;
    }
  /** One record bigger than a half, in its own buffer. */
  | { readonly t: "oversize"; readonly bytes: Uint8Array; readonly lastSeq: number }
  | { readonly t: "sync" | "close"; readonly id: number }
  /** Tests only: make the worker's writes/fsyncs fail (faulty-fs.ts); replies when in force. */
  | { readonly t: "faults"; readonly id: number; readonly faults: FsFaults };

export type FromWorker =
  | {
      readonly t: "error";
      readonly op: string;
      readonly path: string;
      readonly code?: string;
      readonly message: string;
    }
  | { readonly t: "recovered"; readonly op: string }
  | { readonly t: "rotated"; readonly firstSeq: number }
  | { readonly t: "reply"; readonly id: number; readonly durableSeq: number };
