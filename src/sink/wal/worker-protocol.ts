/**
 * What the WAL's main thread (worker-writer.ts) and its Worker (wal-worker.ts) share: the
 * control block's layout and the messages. The frame bytes live in a second SharedArrayBuffer
 * split into two halves; the main thread only writes past what it has handed over, the worker
 * only touches handed bytes, and a half is reused once the worker has written all of it and
 * moved on. Hand-overs are Atomics stores the worker polls every tick: a postMessage per flush
 * cost the main thread ~13 µs (waking the worker) and 2.9 % of its time at max rate (profile
 * of native-bench/e2e-throughput.ts). Messages remain for the rare things: sync, close,
 * records bigger than a half, errors, rotations.
 */
import type { FsFaults } from "./faulty-fs.ts";
import type { WalLimits } from "./options.ts";

/** Int32 slots of the control block (Atomics). Offsets are absolute bytes of the data buffer. */
export const I = {
  /** Main thread: end of what it has handed over in half 0 / half 1 (a flush is one store). */
  hand0: 0,
  hand1: 1,
  /** Worker: end of what it has written from half 0 / half 1. */
  done0: 2,
  done1: 3,
  /** Main thread: the half it appends to. Stored after that half's hand slot was reset. */
  cur: 4,
  /** Worker: the half it writes from; it moves on once main has left a half and it is written. */
  wcur: 5,
  /**
   * 1 while a record too big for a half is with the worker (at most one); it goes to the file
   * when the worker reaches oversizeAt in half oversizeHalf (both stored before the flag).
   */
  oversize: 6,
  writeErrors: 7,
  fsyncErrors: 8,
  /** 1 from a failed write until the next good one. */
  writeFailing: 9,
  /** Worker: bumped and notified on every step forward, for an append waiting on it. */
  progress: 10,
  oversizeHalf: 11,
  oversizeAt: 12,
} as const;
export const INT_SLOTS = 14;

export const handSlot = (half: number): number => (half === 0 ? I.hand0 : I.hand1);
export const doneSlot = (half: number): number => (half === 0 ? I.done0 : I.done1);

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
  /** One record bigger than a half, in its own buffer. */
  | { readonly t: "oversize"; readonly bytes: Uint8Array }
  /** Main is waiting for the worker (a half to come free): tick now rather than at the timer. */
  | { readonly t: "kick" }
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
