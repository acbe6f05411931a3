/**
 * Messages between ParquetWriterPool (main thread) and worker.ts. Kept apart from worker.ts
 * because importing that module installs a global `onmessage`, which on the main thread keeps
 * the process alive.
 */
import { BATCH_SLOTS, type BatchColumns } from "./batch.ts";
import type { EncodeOptions } from "./encode.ts";
import type { ParquetErrorData } from "./errors.ts";
import type { FsFault } from "./fs.ts";
import type { CompactJob, WriteJob } from "./job.ts";
import type { FileInfo } from "./meta.ts";

export type WorkerRequest =
  | { readonly op: "write"; readonly jobId: number; readonly job: WriteJob }
  | { readonly op: "compact"; readonly jobId: number; readonly job: CompactJob }
  | {
      readonly op: "config";
      readonly jobId: number;
      readonly encode: EncodeOptions;
      readonly faults: readonly FsFault[];
      /** A full GC after every merge (worker.ts says why). */
      readonly collectAfterMerge: boolean;
    };

export type WorkerReply =
  | {
      readonly jobId: number;
      readonly ok: true;
      readonly info?: FileInfo;
      readonly duplicatesDropped?: number;
      readonly columns?: BatchColumns;
      /** The worker's own JS heap after the job (bytes): its memory is not in the main thread's. */
      readonly heapBytes?: number;
    }
  | {
      readonly jobId: number;
      readonly ok: false;
      readonly error: ParquetErrorData;
      readonly columns?: BatchColumns;
    };

/**
 * The buffers a write's columns move with: all of them, or none when they are shared
 * (batch.ts batchOver: both threads see the same memory, and a SharedArrayBuffer cannot be
 * transferred).
 */
export function transferList(c: BatchColumns): ArrayBuffer[] {
  if (c.id.buffer instanceof SharedArrayBuffer) return [];
  return BATCH_SLOTS.map((s) => c[s].buffer as ArrayBuffer);
}
