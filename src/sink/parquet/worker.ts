/**
 * The writer worker: encodes and commits off the main thread (hyparquet-writer's synchronous
 * encode stalled the event loop ~0.5 s per 200k rows when run inline). Batch buffers arrive by
 * transfer and go back by transfer, so the batcher can reuse them.
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

self.onmessage = async (ev: MessageEvent<WorkerRequest>) => {
  const req = ev.data;
  let reply: WorkerReply;
  const columns = req.op === "write" ? req.job.columns : undefined;
  try {
    if (req.op === "config") {
      encode = req.encode;
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
