/**
 * The writer worker: encodes and commits off the main thread (hyparquet-writer's synchronous
 * encode stalled the event loop ~0.5 s per 200k rows when run inline). Batch buffers arrive by
 * transfer and go back by transfer, so the batcher can reuse them; shared ones (batchOver) are
 * read in place and nothing moves (protocol.ts transferList).
 */
import { heapSize } from "bun:jsc";
import type { EncodeOptions } from "./encode.ts";
import { type ParquetErrorData, ParquetSinkError } from "./errors.ts";
import { faultyFs, nodeParquetFs, type ParquetFs } from "./fs.ts";
import { compactJob, writeJob } from "./job.ts";
import { transferList, type WorkerReply, type WorkerRequest } from "./protocol.ts";

function errorData(err: unknown): ParquetErrorData {
  if (err instanceof ParquetSinkError) return err.toData();
  const message = err instanceof Error ? err.message : String(err);
  return new ParquetSinkError({ kind: "other", op: "worker", message }).toData();
}

declare const self: Worker;
if (Bun.isMainThread) throw new Error("worker.ts runs only as a Worker (import protocol.ts instead)");

let fs: ParquetFs = nodeParquetFs;
let encode: EncodeOptions = {};
/**
 * A full GC after every merge (the pool turns it off only to measure it). Why: every maintenance
 * pass runs a merge per partition back to back (60 in the 1-hour soak), and JSC let their garbage
 * (decoded columns, copies, encoded pages) pile up across the pass: K2's RSS rose by 50–150 MB for
 * a few seconds every pass or two, which the soak's RSS slope picked up whenever its samples fell
 * on a pass. Collecting only when a merge grew the heap by 4 MB left rises of 30–80 MB; after
 * every merge, none over 25 MB (7-minute soaks, 1 s samples). It costs ~12–15 ms of the worker's
 * time per merge, off the main thread (native-bench/compact-memory.ts).
 */
let collectAfterMerge = true;

self.onmessage = async (ev: MessageEvent<WorkerRequest>) => {
  const req = ev.data;
  let reply: WorkerReply;
  const columns = req.op === "write" ? req.job.columns : undefined;
  try {
    if (req.op === "config") {
      encode = req.encode;
      collectAfterMerge = req.collectAfterMerge;
      fs = req.faults.length > 0 ? faultyFs(nodeParquetFs, req.faults) : nodeParquetFs;
      reply = { jobId: req.jobId, ok: true };
    } else if (req.op === "write") {
      reply = {
        jobId: req.jobId,
        ok: true,
        info: writeJob(fs, req.job, encode),
        ...(columns ? { columns } : {}),
        heapBytes: heapSize(),
      };
    } else {
      const r = await compactJob(fs, req.job, encode);
      if (collectAfterMerge) Bun.gc(true);
      reply = {
        jobId: req.jobId,
        ok: true,
        info: r.info,
        duplicatesDropped: r.duplicatesDropped,
        heapBytes: heapSize(),
      };
    }
  } catch (err) {
    reply = { jobId: req.jobId, ok: false, error: errorData(err), ...(columns ? { columns } : {}) };
  }
  self.postMessage(reply, columns ? transferList(columns) : []);
};
