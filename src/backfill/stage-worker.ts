/**
 * A stage worker: reads archive files one at a time (stage.ts) and writes their staged Parquet
 * files itself, synchronously (sink/parquet writeJob: the same encoder and atomic commit as the
 * live writer pool). Progress goes back as {rows} messages, each file's result as {result}.
 */
import { ArchiveError } from "../archive/index.ts";
import { BatchPool } from "../sink/parquet/index.ts";
import type { BackfillJob } from "./plan.ts";
import { stagedWriter, stageFile } from "./stage.ts";
import type { StageInit, StageReply } from "./stage-protocol.ts";

declare const self: Worker;
if (Bun.isMainThread) throw new Error("stage-worker.ts runs only as a Worker");

/** Progress is posted per this many rows (a message per parser flush would cost more than it tells). */
const ROWS_PER_MESSAGE = 65_536;

let init: StageInit | undefined;
const batches = new BatchPool(4);
let seq = 0;
let write: ReturnType<typeof stagedWriter> | undefined;

self.onmessage = async (ev: MessageEvent<{ init: StageInit } | { job: BackfillJob }>) => {
  if ("init" in ev.data) {
    const i = ev.data.init;
    init = i;
    write = stagedWriter({
      stagingDir: i.stagingDir,
      writer: i.writer,
      ...(i.zstdLevel === undefined ? {} : { zstdLevel: i.zstdLevel }),
      seq: () => ++seq * i.workers + i.index,
    });
    return;
  }
  const i = init!;
  let pending = 0;
  const r = await stageFile(ev.data.job, {
    dataDir: i.dataDir,
    root: i.root,
    stagingDir: i.stagingDir,
    ...(i.inMemoryZipBytes === undefined ? {} : { inMemoryZipBytes: i.inMemoryZipBytes }),
    batchRows: i.batchRows,
    batches,
    write: write!,
    onRows: (n) => {
      pending += n;
      if (pending < ROWS_PER_MESSAGE) return;
      self.postMessage({ rows: pending } satisfies StageReply);
      pending = 0;
    },
  });
  if (pending > 0) self.postMessage({ rows: pending } satisfies StageReply);
  const result = r.ok
    ? r
    : {
        ok: false as const,
        staged: r.staged,
        error: {
          message: r.error.message,
          ...(r.error instanceof ArchiveError ? { kind: r.error.kind, retryable: r.error.retryable } : {}),
        },
      };
  self.postMessage({ result } satisfies StageReply);
};
