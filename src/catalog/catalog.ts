/**
 * The catalog: which visible Parquet files hold what, per (table, symbol). Files are the truth
 * (scan.ts rebuilds this from disk); the writer adds each committed file; compaction and
 * retention change it with `swap`, one synchronous step, so a reader that takes a `snapshot`
 * sees the old set or the new one, never a mix. Files a swap removes are "retired": they stay
 * on disk while any snapshot pins them, then compact.ts / retention.ts delete them.
 */
import type { TableName } from "../model/index.ts";
import type { FileInfo } from "../sink/parquet/index.ts";

export interface FileQuery {
  readonly table: TableName;
  readonly symbol: string;
  /** Keep files whose event-time range overlaps [fromUs, toUs] (both inclusive). */
  readonly fromUs?: number;
  readonly toUs?: number;
  readonly date?: string;
}

export interface Coverage {
  readonly firstEventTimeUs: number;
  readonly lastEventTimeUs: number;
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

export interface PartitionSummary {
  readonly table: TableName;
  readonly symbol: string;
  readonly date: string;
  readonly files: number;
  readonly rows: number;
  readonly bytes: number;
}

export interface Snapshot {
  readonly files: readonly FileInfo[];
  /** Unpin the files; idempotent. Call in `finally`. */
  release(): void;
}

interface Series {
  readonly byPath: Map<string, FileInfo>;
  /** Sorted by (minEventTimeUs, minId, name); rebuilt lazily after a change. */
  sorted: FileInfo[] | null;
  /** Union of id ranges as [lo0, hi0, lo1, hi1, …], sorted, disjoint. */
  idRanges: Float64Array | null;
}

const key = (table: string, symbol: string) => `${table}/${symbol}`;

function byTime(a: FileInfo, b: FileInfo): number {
  return (
    a.minEventTimeUs - b.minEventTimeUs ||
    a.minId - b.minId ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

export class Catalog {
  readonly #series = new Map<string, Series>();
  readonly #pins = new Map<string, number>();
  /** Replaced or expired files still on disk → when they were retired (performance.now() ms). */
  readonly #retired = new Map<string, number>();
  readonly #waiters = new Set<() => void>();
  readonly #forgetListeners: ((paths: readonly string[]) => void)[] = [];

  #get(table: string, symbol: string, create: boolean): Series | undefined {
    const k = key(table, symbol);
    let s = this.#series.get(k);
    if (!s && create) {
      s = { byPath: new Map(), sorted: null, idRanges: null };
      this.#series.set(k, s);
    }
    return s;
  }

  /** Record a committed file (replaces an entry with the same path). */
  add(info: FileInfo): void {
    const s = this.#get(info.table, info.symbol, true)!;
    s.byPath.set(info.path, info);
    s.sorted = null;
    s.idRanges = null;
  }

  /**
   * Remove `removed` and add `added` in one synchronous step. Returns false and changes nothing
   * when any of `removed` is no longer listed (someone else already swapped it out).
   */
  swap(removed: readonly FileInfo[], added?: FileInfo): boolean {
    for (const f of removed) if (!this.#get(f.table, f.symbol, false)?.byPath.has(f.path)) return false;
    for (const f of removed) {
      const s = this.#get(f.table, f.symbol, false)!;
      s.byPath.delete(f.path);
      s.sorted = null;
      s.idRanges = null;
      this.#retired.set(f.path, performance.now());
    }
    if (added) this.add(added);
    return true;
  }

  /** Files of one (table, symbol), pruned by time/date, sorted by time. No pin: plan only. */
  files(q: FileQuery): readonly FileInfo[] {
    const s = this.#get(q.table, q.symbol, false);
    if (!s) return [];
    s.sorted ??= [...s.byPath.values()].sort(byTime);
    const from = q.fromUs ?? Number.NEGATIVE_INFINITY;
    const to = q.toUs ?? Number.POSITIVE_INFINITY;
    return s.sorted.filter(
      (f) =>
        f.maxEventTimeUs >= from && f.minEventTimeUs <= to && (q.date === undefined || f.date === q.date),
    );
  }

  /** Like files(), and pins them: retired files are not deleted until `release()`. */
  snapshot(q: FileQuery): Snapshot {
    const files = this.files(q);
    return { files, release: this.pin(files.map((f) => f.path)) };
  }

  /**
   * Pin `paths` (listed in this same synchronous step, so none can have been deleted yet):
   * compaction and retention leave them on disk until the returned function runs (idempotent).
   */
  pin(paths: readonly string[]): () => void {
    for (const p of paths) this.#pins.set(p, (this.#pins.get(p) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const p of paths) {
        const n = (this.#pins.get(p) ?? 1) - 1;
        if (n <= 0) this.#pins.delete(p);
        else this.#pins.set(p, n);
      }
      for (const w of [...this.#waiters]) w();
    };
  }

  /** Paths pinned by at least one reader now (for tests and metrics). */
  get pinnedCount(): number {
    return this.#pins.size;
  }

  pinned(path: string): boolean {
    return this.#pins.has(path);
  }

  /** Resolves true once none of `paths` is pinned, false after `timeoutMs`. */
  whenUnpinned(paths: readonly string[], timeoutMs: number): Promise<boolean> {
    const free = () => paths.every((p) => !this.#pins.has(p));
    if (free()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!free()) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(ok);
      };
      this.#waiters.add(check);
    });
  }

  /**
   * Retired files no snapshot pins and retired at least `graceMs` ago: safe to delete now. The
   * grace is for readers this catalog cannot pin: query nodes of a shared folder, which may still
   * read a file until their next listing.
   */
  deletable(graceMs = 0, nowMs = performance.now()): string[] {
    const out: string[] = [];
    for (const [p, at] of this.#retired) if (!this.#pins.has(p) && nowMs - at >= graceMs) out.push(p);
    return out;
  }

  /** Files on disk this catalog no longer lists (superseded ones found at start): delete them later. */
  retire(paths: readonly string[]): void {
    const now = performance.now();
    for (const p of paths) if (!this.#retired.has(p)) this.#retired.set(p, now);
  }

  /** Forget retired paths once deleted; `onForget` listeners hear which. */
  forget(paths: readonly string[]): void {
    for (const p of paths) this.#retired.delete(p);
    if (paths.length > 0) for (const f of this.#forgetListeners) f(paths);
  }

  /** Called with the paths of files deleted from disk (e.g. to drop caches keyed by path). */
  onForget(listener: (paths: readonly string[]) => void): void {
    this.#forgetListeners.push(listener);
  }

  get retiredCount(): number {
    return this.#retired.size;
  }

  coverage(table: TableName, symbol: string): Coverage | undefined {
    const files = this.files({ table, symbol });
    if (files.length === 0) return undefined;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    let rows = 0;
    let bytes = 0;
    for (const f of files) {
      first = Math.min(first, f.minEventTimeUs);
      last = Math.max(last, f.maxEventTimeUs);
      rows += f.rows;
      bytes += f.bytes;
    }
    return { firstEventTimeUs: first, lastEventTimeUs: last, rows, files: files.length, bytes };
  }

  /** Highest stored id of (table, symbol), or undefined when nothing is stored. */
  maxId(table: TableName, symbol: string): number | undefined {
    const r = this.#ranges(table, symbol);
    return r.length > 0 ? r[r.length - 1] : undefined;
  }

  /**
   * True when `id` lies inside some file's [minId, maxId] (binary search over merged ranges).
   * Range-based: an id missing inside a file's range (an exchange gap) also answers true, which
   * is what WAL replay wants (never write an id twice); use readStoredIds for the exact set.
   */
  hasId(table: TableName, symbol: string, id: number): boolean {
    const r = this.#ranges(table, symbol);
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (id < r[2 * mid]!) hi = mid - 1;
      else if (id > r[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  #ranges(table: TableName, symbol: string): Float64Array {
    const s = this.#get(table, symbol, false);
    if (!s) return new Float64Array(0);
    if (s.idRanges) return s.idRanges;
    const fs = [...s.byPath.values()].sort((a, b) => a.minId - b.minId);
    const out: number[] = [];
    for (const f of fs) {
      const n = out.length;
      // Adjacent ranges (…, 10] [11, …) merge too: no id lies between them.
      if (n > 0 && f.minId <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, f.maxId);
      else out.push(f.minId, f.maxId);
    }
    s.idRanges = Float64Array.from(out);
    return s.idRanges;
  }

  partitions(): PartitionSummary[] {
    const acc = new Map<
      string,
      { table: TableName; symbol: string; date: string; files: number; rows: number; bytes: number }
    >();
    for (const f of this.all()) {
      const k = `${f.table}/${f.date}/${f.symbol}`;
      const p = acc.get(k) ?? { table: f.table, symbol: f.symbol, date: f.date, files: 0, rows: 0, bytes: 0 };
      p.files++;
      p.rows += f.rows;
      p.bytes += f.bytes;
      acc.set(k, p);
    }
    return [...acc.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  }

  /** Every visible file, in (table, symbol, time) order: for tests and /admin views. */
  all(): FileInfo[] {
    const out: FileInfo[] = [];
    for (const k of [...this.#series.keys()].sort()) {
      const s = this.#series.get(k)!;
      s.sorted ??= [...s.byPath.values()].sort(byTime);
      out.push(...s.sorted);
    }
    return out;
  }

  get size(): number {
    let n = 0;
    for (const s of this.#series.values()) n += s.byPath.size;
    return n;
  }
}
