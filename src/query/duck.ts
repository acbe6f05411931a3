/**
 * DuckDB, embedded and capped: a small pool of connections on one instance whose threads and
 * memory come from options, so ingestion keeps its core. SQL text is fixed by the engine; every
 * value (file list included) is a bound parameter of a cached prepared statement.
 */
import {
  type DuckDBConnection,
  DuckDBDecimal64Vector,
  DuckDBDecimal128Vector,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBResult,
  LIST,
  listValue,
  timestampTZValue,
  VARCHAR,
} from "@duckdb/node-api";
import { keyDefault } from "../config/key-default.ts";
import { QueryError } from "./types.ts";

export interface DuckOptions {
  /** DuckDB worker threads (K2_QUERY_THREADS). */
  readonly threads: number;
  /** DuckDB memory limit in MiB (K2_QUERY_MEMORY_MB). */
  readonly memoryLimitMb: number;
  /**
   * Freed memory DuckDB's allocator may keep after a query before returning it to the OS, MiB
   * (K2_QUERY_ALLOCATOR_KEEP_MB; DuckDB's allocator_flush_threshold, its default is 128).
   */
  readonly allocatorKeepMb: number;
  /** Connections, i.e. queries running at once (K2_QUERY_CONNECTIONS). */
  readonly connections: number;
  /** Queries allowed to wait for a connection before new ones are refused (K2_QUERY_QUEUE). */
  readonly maxQueued: number;
}

/** K2's defaults (src/config/keys.ts) for a Duck opened without a loaded Config. */
export const DEFAULT_DUCK_OPTIONS: DuckOptions = {
  threads: keyDefault("queryThreads"),
  memoryLimitMb: keyDefault("queryMemoryMb"),
  allocatorKeepMb: keyDefault("queryAllocatorKeepMb"),
  connections: 2,
  maxQueued: 64,
};

/** How often DuckDB's memory accounting is read for metrics (one tiny query on an idle connection). */
const MEMORY_POLL_MS = 5000;
const MEMORY_SQL = "SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory()";

/** DuckDB's errors for a file listed but gone (or a listing that matched none) by the time it read. */
const VANISHED_FILE_RE = /Cannot open file .*No such file or directory|No files found/;

/** True when `e` says a file given to DuckDB was deleted before it was read: list again, retry. */
export function isVanishedFileError(e: unknown): boolean {
  return VANISHED_FILE_RE.test(String(e));
}

/** A bound parameter: the kind picks the DuckDB type, so no value is ever spliced into SQL. */
export type Param =
  | { readonly files: readonly string[] }
  | { readonly int: number }
  | { readonly tsUs: number }
  | { readonly text: string };

/** Column-major JS values: BIGINT → number, DECIMAL → bigint at its own scale, VARCHAR, BOOLEAN. */
export interface Columns {
  readonly names: string[];
  readonly scales: (number | undefined)[];
  readonly data: (number | bigint | string | boolean | null)[][];
  readonly length: number;
}

interface Slot {
  readonly con: DuckDBConnection;
  readonly statements: Map<string, DuckDBPreparedStatement>;
}

export class Duck {
  readonly #instance: DuckDBInstance;
  readonly #free: Slot[];
  readonly #waiting: ((s: Slot) => void)[] = [];
  readonly #maxQueued: number;
  #closed = false;
  #memoryTimer: ReturnType<typeof setInterval> | undefined;
  /** Queries run and refused, for metrics. */
  queries = 0;
  refused = 0;
  /**
   * DuckDB's own accounting of its memory (sum of duckdb_memory()), read every MEMORY_POLL_MS;
   * -1 before the first reading. Memory its allocator keeps after freeing is not in it.
   */
  memoryBytes = -1;

  private constructor(instance: DuckDBInstance, slots: Slot[], maxQueued: number) {
    this.#instance = instance;
    this.#free = slots;
    this.#maxQueued = maxQueued;
    this.#memoryTimer = setInterval(() => void this.#pollMemory(), MEMORY_POLL_MS);
    this.#memoryTimer.unref();
    void this.#pollMemory();
  }

  static async open(opts: DuckOptions = DEFAULT_DUCK_OPTIONS): Promise<Duck> {
    const instance = await DuckDBInstance.create(":memory:", {
      threads: String(opts.threads),
      memory_limit: `${opts.memoryLimitMb}MB`,
      // DuckDB 1.5 keeps blocks read from Parquet files in its buffer pool (on by default). K2's
      // files are local (the OS page cache has them) and compaction replaces them every minute,
      // so the cache held blocks of deleted files until the memory limit: RSS crept up by
      // ~150 MB/h in a soak. Off: memory follows the queries running, not the files ever read.
      enable_external_file_cache: "false",
      // DuckDB's allocator (jemalloc, not Bun's) keeps freed pages for reuse and, by default, only
      // gives them back when a task ends with more than 128 MiB kept, or when a later allocation
      // happens to purge: up to 128 MiB of RSS outside the JS heap that duckdb_memory() does not
      // show. A small threshold plus jemalloc's background purge thread bound it.
      allocator_flush_threshold: `${opts.allocatorKeepMb}MiB`,
      allocator_background_threads: "true",
    });
    const slots: Slot[] = [];
    for (let i = 0; i < Math.max(1, opts.connections); i++) {
      const con = await instance.connect();
      // Times are bound and compared as TIMESTAMPTZ; a UTC session keeps any cast at the boundary exact.
      await con.run("SET TimeZone = 'UTC'");
      slots.push({ con, statements: new Map() });
    }
    return new Duck(instance, slots, opts.maxQueued);
  }

  async query(sql: string, params: readonly Param[]): Promise<Columns> {
    if (this.#closed) throw new Error("query engine closed");
    const slot = await this.#acquire();
    try {
      let ps = slot.statements.get(sql);
      if (!ps) {
        ps = await slot.con.prepare(sql);
        slot.statements.set(sql, ps);
      }
      ps.clearBindings();
      params.forEach((p, i) => {
        bindParam(ps, i + 1, p);
      });
      this.queries++;
      return await readColumns(await ps.run());
    } finally {
      this.#release(slot);
    }
  }

  /** True while the instance answers; used by /health/ready. */
  get healthy(): boolean {
    return !this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#memoryTimer);
    for (const s of this.#free) {
      for (const ps of s.statements.values()) ps.destroySync();
      s.con.closeSync();
    }
    this.#instance.closeSync();
  }

  /** Not counted in `queries`: it is the engine watching itself, not a user's query. */
  async #pollMemory(): Promise<void> {
    if (this.#closed || this.#free.length === 0) return; // never queue behind users' queries
    const slot = this.#free.pop()!;
    try {
      const r = await slot.con.runAndReadAll(MEMORY_SQL);
      this.memoryBytes = Number(r.getRows()[0]?.[0] ?? -1);
    } catch {
      this.memoryBytes = -1;
    } finally {
      if (this.#closed) slot.con.closeSync();
      else this.#release(slot);
    }
  }

  #acquire(): Promise<Slot> {
    const s = this.#free.pop();
    if (s) return Promise.resolve(s);
    if (this.#waiting.length >= this.#maxQueued) {
      this.refused++;
      throw new QueryError("busy", `query engine busy: ${this.#maxQueued} queries already waiting`);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(s: Slot): void {
    const next = this.#waiting.shift();
    if (next) next(s);
    else this.#free.push(s);
  }
}

function bindParam(ps: DuckDBPreparedStatement, i: number, p: Param): void {
  if ("files" in p) ps.bindList(i, listValue([...p.files]), LIST(VARCHAR));
  else if ("int" in p) ps.bindBigInt(i, BigInt(p.int));
  else if ("tsUs" in p) ps.bindTimestampTZ(i, timestampTZValue(BigInt(p.tsUs)));
  else ps.bindVarchar(i, p.text);
}

async function readColumns(result: DuckDBResult): Promise<Columns> {
  const n = result.columnCount;
  const names = result.columnNames();
  const scales = result.columnTypes().map((t) => ("scale" in t ? (t.scale as number) : undefined));
  const data: Columns["data"] = names.map(() => []);
  let length = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    for (let c = 0; c < n; c++) {
      const out = data[c]!;
      const v = chunk.getColumnVector(c);
      // Decimal vectors hand out the scaled integer directly: no per-cell value object.
      if (v instanceof DuckDBDecimal64Vector || v instanceof DuckDBDecimal128Vector) {
        for (let r = 0; r < rows; r++) out.push(v.getScaledValue(r));
      } else {
        for (let r = 0; r < rows; r++) {
          const x = v.getItem(r);
          out.push(typeof x === "bigint" ? Number(x) : (x as string | boolean | number | null));
        }
      }
    }
    length += rows;
  }
  return { names, scales, data, length };
}
