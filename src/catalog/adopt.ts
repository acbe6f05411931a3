/**
 * Files another process committed into this data folder — `k2 backfill` (src/backfill/) — join
 * the running process's catalog here: the hand-over of a second process's files. The contract,
 * owned here: the backfill names its files `…-backfill.parquet` (writer tag BACKFILL_WRITER) and,
 * after committing an archive file's Parquet files, appends a line naming its partition
 * ({table, symbol, date, …}) to `<data>/.backfill/landed.jsonl`. The owner runs `pass()` from its
 * maintenance pass (one job at a time, so never beside its own compaction of the same folder): it
 * reads the journal's new lines and lists only those partitions (and the next day's, where a
 * row of the day's last instant may sit), so a pass costs nothing while no backfill lands.
 *
 * Only names with the tag are taken: the owner's own files are added when it commits them, and a
 * file it compacted away or expired stays on disk until deleted; listing those again would bring
 * them back. A path is adopted once per process: after it was compacted into a bigger file it is
 * not picked up again before its deletion. At the owner's start the catalog scan finds every file.
 *
 * A scale-out writer (src/roles/writer.ts) owns only its shard's symbols: it passes `owns` and
 * adopts only those partitions, so each backfilled file joins exactly one writer's catalog.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { TABLE_NAMES, type TableName } from "../model/index.ts";
import { dateOfDay, dayOfDate, type FileInfo, PARQUET_EXT, readFileInfo } from "../sink/parquet/index.ts";
import type { Catalog } from "./catalog.ts";

/** The writer tag `k2 backfill` puts in its file names. */
export const BACKFILL_WRITER = "backfill";
/** The backfill's folder under the data folder (state, staging) and its journal of landed files. */
export const BACKFILL_DIR = ".backfill";
export const BACKFILL_JOURNAL = "landed.jsonl";
const SUFFIX = `-${BACKFILL_WRITER}${PARQUET_EXT}`;
/** Journal bytes read per pass at most (the rest waits for the next pass). */
const MAX_READ_BYTES = 4 << 20;

/**
 * The journal's length now (0 when there is none). Taken before an owner's catalog scan, it is
 * where adoption can start: every file journaled before it was committed before the scan began.
 */
export function backfillJournalSize(dataDir: string): number {
  try {
    return statSync(join(dataDir, BACKFILL_DIR, BACKFILL_JOURNAL)).size;
  } catch {
    return 0;
  }
}

export class BackfillAdopter {
  #offset: number;
  readonly #seen = new Set<string>();

  constructor(
    readonly catalog: Catalog,
    readonly dataDir: string,
    /** The symbols this owner adopts (a writer: its shard's); every symbol by default. */
    readonly owns: (symbol: string) => boolean = () => true,
    /**
     * Journal bytes already covered by the owner's catalog scan (backfillJournalSize before it):
     * a writer adopts on its flush path, where re-listing a long journal's partitions would delay acks.
     */
    fromOffset = 0,
  ) {
    this.#offset = fromOffset;
  }

  /** Passes run one after another: a writer calls pass() from its flushes and its maintenance. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Adopt the files of partitions the journal named since the last pass; returns them. */
  pass(): Promise<FileInfo[]> {
    const next = this.#queue.then(() => this.#pass());
    this.#queue = next.catch(() => {});
    return next;
  }

  async #pass(): Promise<FileInfo[]> {
    const added: FileInfo[] = [];
    for (const p of this.#newPartitions())
      for (const info of await this.#adopt(p.table, p.symbol, p.date)) added.push(info);
    return added;
  }

  #newPartitions(): { table: TableName; symbol: string; date: string }[] {
    const path = join(this.dataDir, BACKFILL_DIR, BACKFILL_JOURNAL);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return [];
    }
    if (size < this.#offset) this.#offset = 0; // replaced by a new journal
    if (size === this.#offset) return [];
    const buf = Buffer.alloc(Math.min(size - this.#offset, MAX_READ_BYTES));
    const fd = openSync(path, "r");
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, this.#offset);
    } finally {
      closeSync(fd);
    }
    const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1; // whole lines only
    this.#offset += end;
    const out = new Map<string, { table: TableName; symbol: string; date: string }>();
    for (const line of buf.toString("utf8", 0, end).split("\n")) {
      if (!line) continue;
      try {
        const l = JSON.parse(line) as { table?: unknown; symbol?: unknown; date?: unknown };
        const day = typeof l.date === "string" ? dayOfDate(l.date) : null;
        if (!TABLE_NAMES.includes(l.table as TableName) || typeof l.symbol !== "string" || day === null)
          continue;
        if (!this.owns(l.symbol)) continue; // another shard's writer adopts it
        for (const date of [dateOfDay(day), dateOfDay(day + 1)])
          out.set(`${l.table}/${l.symbol}/${date}`, { table: l.table as TableName, symbol: l.symbol, date });
      } catch {
        // A line a crash cut short: its file is journaled again by the next backfill run.
      }
    }
    return [...out.values()];
  }

  async #adopt(table: TableName, symbol: string, date: string): Promise<FileInfo[]> {
    const dir = join(this.dataDir, table, `date=${date}`, `symbol=${symbol}`);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return []; // no such partition (yet), or removed by retention
    }
    const listed = new Set(this.catalog.files({ table, symbol, date }).map((f) => f.path));
    const added: FileInfo[] = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX) || name.startsWith(".")) continue;
      const path = join(dir, name);
      if (this.#seen.has(path) || listed.has(path)) continue;
      try {
        const info = await readFileInfo(path);
        if (info.table !== table || info.date !== date || info.symbol !== symbol) continue;
        this.#seen.add(path);
        this.catalog.add(info);
        added.push(info);
      } catch {
        // Vanished or unreadable now: not adopted (the owner's next start scans it again).
      }
    }
    return added;
  }
}
