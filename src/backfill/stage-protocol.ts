/** Messages between the main thread and a stage worker (stage-worker.ts). */
import { ArchiveError } from "../archive/index.ts";
import type { StageResult } from "./stage.ts";

export interface StageInit {
  readonly dataDir: string;
  readonly stagingDir: string;
  readonly root: string;
  readonly batchRows: number;
  readonly zstdLevel?: number;
  /** Largest zip held in memory (tests set it low to take the disk path); default archive/fetch.ts's. */
  readonly inMemoryZipBytes?: number;
  /** This worker's index: names stay unique across the run's workers (seq = n × workers + index). */
  readonly index: number;
  readonly workers: number;
  readonly writer: string;
}

/** An error as it crosses to the main thread (ArchiveError keeps its kind). */
export interface ErrorData {
  readonly message: string;
  readonly kind?: string;
  readonly retryable?: boolean;
}

export type StageReply =
  | { readonly rows: number }
  | {
      readonly result:
        | Exclude<StageResult, { ok: false }>
        | { ok: false; error: ErrorData; staged: string[] };
    };

/** Back on the main thread: the error as an ArchiveError when it was one. */
export function errorFromData(e: ErrorData): Error {
  return e.kind
    ? new ArchiveError(e.kind as ArchiveError["kind"], e.message, e.retryable)
    : new Error(e.message);
}
