/**
 * A FileSource that scans the Hive folders itself, reading only each file's Parquet footer.
 * For tests, benches and tools; the running process uses the catalog (src/catalog/) instead.
 * Layout: <dataDir>/<table>/date=YYYY-MM-DD/symbol=<SYMBOL>/<name>.parquet.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import { TABLE_ID_COLUMN, TABLE_NAMES, type TableName } from "../model/tables.ts";
import { type Coverage, type FileInfo, type FileQuery, type FileSource, TIME_COLUMN } from "./types.ts";

interface Entry extends FileInfo {
  readonly table: TableName;
  readonly symbol: string;
}

export class DirFileSource implements FileSource {
  #entries: Entry[] = [];

  constructor(readonly dataDir: string) {
    this.refresh();
  }

  /** Rescan the folders (synchronously; files are small in number, footers are read, not data). */
  refresh(): void {
    const out: Entry[] = [];
    for (const table of TABLE_NAMES) {
      const tdir = join(this.dataDir, table);
      if (!existsSync(tdir)) continue;
      for (const d of readdirSync(tdir)) {
        if (!d.startsWith("date=")) continue;
        for (const s of readdirSync(join(tdir, d))) {
          if (!s.startsWith("symbol=")) continue;
          const sdir = join(tdir, d, s);
          for (const f of readdirSync(sdir)) {
            if (!f.endsWith(".parquet")) continue;
            out.push(readEntry(table, s.slice(7), join(sdir, f)));
          }
        }
      }
    }
    out.sort((a, b) => a.minId - b.minId);
    this.#entries = out;
  }

  files(q: FileQuery): readonly FileInfo[] {
    return this.#entries.filter(
      (e) =>
        e.table === q.table &&
        e.symbol === q.symbol &&
        (q.fromUs === undefined || e.maxEventUs >= q.fromUs) &&
        (q.toUs === undefined || e.minEventUs < q.toUs),
    );
  }

  maxId(table: TableName, symbol: string): number | undefined {
    let m: number | undefined;
    for (const e of this.#entries)
      if (e.table === table && e.symbol === symbol) m = Math.max(m ?? -1, e.maxId);
    return m;
  }

  coverage(): readonly Coverage[] {
    const by = new Map<string, Coverage>();
    for (const e of this.#entries) {
      const k = `${e.table}:${e.symbol}`;
      const c = by.get(k);
      by.set(k, {
        table: e.table,
        symbol: e.symbol,
        firstUs: Math.min(c?.firstUs ?? e.minEventUs, e.minEventUs),
        lastUs: Math.max(c?.lastUs ?? e.maxEventUs, e.maxEventUs),
        minId: Math.min(c?.minId ?? e.minId, e.minId),
        maxId: Math.max(c?.maxId ?? e.maxId, e.maxId),
        rows: (c?.rows ?? 0) + e.rows,
        files: (c?.files ?? 0) + 1,
      });
    }
    return [...by.values()];
  }
}

function readEntry(table: TableName, symbol: string, path: string): Entry {
  const size = statSync(path).size;
  const fd = openSync(path, "r");
  try {
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    const footerLen = tail.readUInt32LE(0);
    const buf = Buffer.alloc(footerLen + 8);
    readSync(fd, buf, 0, footerLen + 8, size - footerLen - 8);
    const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const idCol = TABLE_ID_COLUMN[table];
    const timeCol = TIME_COLUMN[table];
    let minId = Number.POSITIVE_INFINITY;
    let maxId = Number.NEGATIVE_INFINITY;
    let minUs = Number.POSITIVE_INFINITY;
    let maxUs = Number.NEGATIVE_INFINITY;
    for (const rg of meta.row_groups) {
      for (const cc of rg.columns) {
        const name = cc.meta_data?.path_in_schema[0];
        const st = cc.meta_data?.statistics;
        if (!st) continue;
        if (name === idCol) {
          minId = Math.min(minId, Number(st.min_value));
          maxId = Math.max(maxId, Number(st.max_value));
        } else if (name === timeCol) {
          // hyparquet gives timestamps as Date (ms): widen the max by 999 µs so no row is pruned.
          minUs = Math.min(minUs, (st.min_value as Date).getTime() * 1000);
          maxUs = Math.max(maxUs, (st.max_value as Date).getTime() * 1000 + 999);
        }
      }
    }
    return {
      table,
      symbol,
      path,
      minId,
      maxId,
      minEventUs: minUs,
      maxEventUs: maxUs,
      rows: Number(meta.num_rows),
    };
  } finally {
    closeSync(fd);
  }
}
