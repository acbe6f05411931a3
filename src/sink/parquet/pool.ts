/**
 * ParquetWriterPool: the main-thread face of the writer workers. `write(batch)` transfers the
 * batch's buffers to the least busy worker and resolves with the committed file's FileInfo;
 * the buffers come back (emptied) either way. A batch over shared memory (batch.ts batchOver, the
 * live batcher's) moves nothing: the worker reads it in place and the rows stay with the caller. Failures reject with a ParquetSinkError
 * (kind + retryable); a crashed worker fails its jobs as `worker_crashed` and is replaced.
 * In-flight jobs are bounded (`maxInFlight`); over the bound `write` refuses with `queue_full`.
 */
import type { TableName } from "../../model/index.ts";
import { allocColumns, reattach, type TableBatch } from "./batch.ts";
import { type ParquetErrorData, ParquetSinkError } from "./errors.ts";
import type { FsFault } from "./fs.ts";
import type { CompactResult } from "./job.ts";
import { WRITER_ID_RE } from "./layout.ts";
import type { FileInfo } from "./meta.ts";
import { transferList, type WorkerReply, type WorkerRequest } from "./protocol.ts";

export interface PoolOptions {
  /** Root of the Hive tree. */
  readonly dataDir: string;
  /** Writer threads (default 1; 1..8). */
  readonly workers?: number;
  /** A scale-out writer's id for its file names (layout.ts: WRITER_ID_RE). */
  readonly writer?: string;
  /** Jobs in flight across the pool before `write` refuses (default 16). */
  readonly maxInFlight?: number;
  /** ZSTD level (default 3: ~2.2 bytes per trade row at ~0.5M rows/s per worker). */
  readonly zstdLevel?: number;
  readonly rowGroupRows?: number;
  /** Tests only: fs faults injected inside the workers (see fs.ts faultyFs). */
  readonly faults?: readonly FsFault[];
  /**
   * A full GC in the worker after every merge (default true; worker.ts says why).
   * Off only to measure what it saves (native-bench/compact-memory.ts, the worker-heap test).
   */
  readonly collectAfterMerge?: boolean;
}

export interface CompactRequest {
  readonly table: TableName;
  readonly symbol: string;
  readonly date: string;
  readonly sources: readonly string[];
}

interface Pending {
  readonly slot: number;
  readonly resolve: (r: WorkerReply & { ok: true }) => void;
  readonly reject: (e: ParquetSinkError) => void;
  readonly batch?: TableBatch;
}

const WORKER_URL = new URL("./worker.ts", import.meta.url).href;

export class ParquetWriterPool {
  readonly #opts: PoolOptions;
  readonly #workers: Worker[] = [];
  readonly #load: number[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #maxInFlight: number;
  readonly #writtenAtMs = Date.now();
  #faults: readonly FsFault[];
  #seq = 0;
  #jobId = 0;
  #closed = false;
  readonly #idle: (() => void)[] = [];
  /** Writes refused because `maxInFlight` jobs were already in flight. */
  refused = 0;
  /** Workers that died and were replaced. */
  crashes = 0;
  /** Each worker's JS heap as its latest reply reported it (bytes; a worker has its own heap). */
  readonly #heapBytes: number[] = [];

  private constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.#maxInFlight = opts.maxInFlight ?? 16;
    this.#faults = opts.faults ?? [];
  }

  static async start(opts: PoolOptions): Promise<ParquetWriterPool> {
    const n = opts.workers ?? 1;
    if (opts.writer !== undefined && !WRITER_ID_RE.test(opts.writer))
      throw new RangeError(`writer id must be 1-32 letters or digits, got ${JSON.stringify(opts.writer)}`);
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new RangeError(`workers must be 1..8, got ${n}`);
    const pool = new ParquetWriterPool(opts);
    await Promise.all(Array.from({ length: n }, (_, i) => pool.#spawn(i)));
    return pool;
  }

  /** The workers' JS heaps together (bytes), as of their latest replies. */
  get workerHeapBytes(): number {
    return this.#heapBytes.reduce((a, b) => a + b, 0);
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  /** Write one batch as one visible file. The batch is empty and reusable when this settles. */
  write(batch: TableBatch): Promise<FileInfo> {
    const refuse = this.#refusal(batch);
    if (refuse) return Promise.reject(refuse);
    const c = batch.columns;
    batch.writing = true;
    const req: WorkerRequest = {
      op: "write",
      jobId: ++this.#jobId,
      job: {
        dataDir: this.#opts.dataDir,
        table: batch.table,
        exchange: batch.exchange,
        symbol: batch.symbol,
        date: batch.date,
        rows: batch.rows,
        columns: c,
        writtenAtMs: this.#writtenAtMs,
        seq: ++this.#seq,
        ...(this.#opts.writer === undefined ? {} : { writer: this.#opts.writer }),
      },
    };
    return this.#send(req, transferList(c), batch).then((r) => r.info!);
  }

  /** Merge files of one partition into one (see catalog/compact.ts for the swap protocol). */
  compact(req: CompactRequest): Promise<CompactResult> {
    if (this.#closed) return Promise.reject(closedError());
    const job = {
      ...req,
      dataDir: this.#opts.dataDir,
      writtenAtMs: this.#writtenAtMs,
      seq: ++this.#seq,
      ...(this.#opts.writer === undefined ? {} : { writer: this.#opts.writer }),
    };
    return this.#send({ op: "compact", jobId: ++this.#jobId, job }, []).then((r) => ({
      info: r.info!,
      duplicatesDropped: r.duplicatesDropped ?? 0,
    }));
  }

  /** Tests: replace the injected fs faults in every worker (empty list clears them). */
  async setFaults(faults: readonly FsFault[]): Promise<void> {
    this.#faults = faults;
    await Promise.all(this.#workers.map((_, i) => this.#configure(i)));
  }

  /** Let in-flight jobs finish, then stop the workers. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    // Each pending job settles (reply, or crash → rejection); no polling loop.
    if (this.#pending.size > 0) await new Promise<void>((res) => this.#idle.push(res));
    for (const w of this.#workers) w.terminate();
    this.#workers.length = 0;
  }

  #refusal(batch: TableBatch): ParquetSinkError | undefined {
    if (this.#closed) return closedError();
    if (batch.writing) {
      return new ParquetSinkError({
        kind: "invalid_batch",
        op: "write",
        message: "batch is already being written",
      });
    }
    if (batch.rows < 1)
      return new ParquetSinkError({ kind: "invalid_batch", op: "write", message: "batch is empty" });
    if (this.#pending.size >= this.#maxInFlight) {
      this.refused++;
      return new ParquetSinkError({
        kind: "queue_full",
        op: "write",
        message: `${this.#maxInFlight} writes already in flight`,
      });
    }
    return undefined;
  }

  #send(
    req: WorkerRequest,
    transfer: ArrayBuffer[],
    batch?: TableBatch,
  ): Promise<WorkerReply & { ok: true }> {
    let slot = 0;
    for (let i = 1; i < this.#load.length; i++) if (this.#load[i]! < this.#load[slot]!) slot = i;
    return new Promise((resolve, reject) => {
      this.#pending.set(req.jobId, { slot, resolve, reject, ...(batch ? { batch } : {}) });
      this.#load[slot]!++;
      this.#workers[slot]!.postMessage(req, transfer);
    });
  }

  #onReply(slot: number, r: WorkerReply): void {
    const p = this.#pending.get(r.jobId);
    if (!p) return;
    this.#pending.delete(r.jobId);
    this.#load[slot]!--;
    if (p.batch) reattach(p.batch, r.columns ?? allocColumns(p.batch.table, p.batch.capacity));
    if (r.ok && r.heapBytes !== undefined) this.#heapBytes[slot] = r.heapBytes;
    if (r.ok) p.resolve(r);
    else p.reject(fromData(r.error));
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#pending.size > 0) return;
    for (const f of this.#idle.splice(0)) f();
  }

  #onCrash(slot: number, message: string): void {
    this.crashes++;
    for (const [id, p] of this.#pending) {
      if (p.slot !== slot) continue;
      this.#pending.delete(id);
      // The buffers died with the worker: give the batch fresh ones so the batcher can go on.
      if (p.batch) reattach(p.batch, allocColumns(p.batch.table, p.batch.capacity));
      p.reject(
        new ParquetSinkError({
          kind: "worker_crashed",
          op: "write",
          message: `writer worker died: ${message}`,
        }),
      );
    }
    this.#load[slot] = 0;
    this.#heapBytes[slot] = 0;
    this.#notifyIdle();
    this.#workers[slot]?.terminate();
    if (!this.#closed) void this.#spawn(slot).catch(() => undefined);
  }

  async #spawn(slot: number): Promise<void> {
    const w = new Worker(WORKER_URL);
    this.#workers[slot] = w;
    this.#load[slot] = 0;
    w.onmessage = (ev: MessageEvent<WorkerReply>) => this.#onReply(slot, ev.data);
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#onCrash(slot, ev.message);
    };
    await this.#configure(slot);
  }

  #configure(slot: number): Promise<unknown> {
    const encode = {
      ...(this.#opts.zstdLevel !== undefined ? { zstdLevel: this.#opts.zstdLevel } : {}),
      ...(this.#opts.rowGroupRows !== undefined ? { rowGroupRows: this.#opts.rowGroupRows } : {}),
    };
    const jobId = ++this.#jobId;
    return new Promise((resolve, reject) => {
      this.#pending.set(jobId, { slot, resolve, reject });
      this.#load[slot]!++;
      this.#workers[slot]!.postMessage({
        op: "config",
        jobId,
        encode,
        faults: this.#faults,
        collectAfterMerge: this.#opts.collectAfterMerge ?? true,
      } satisfies WorkerRequest);
    });
  }
}

function closedError(): ParquetSinkError {
  return new ParquetSinkError({ kind: "closed", op: "write", message: "writer pool is closed" });
}

function fromData(d: ParquetErrorData): ParquetSinkError {
  return new ParquetSinkError(d);
}
