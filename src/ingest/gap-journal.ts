/**
 * The gap ledger on disk, so its history outlives the process: `<data>/gaps/ledger.ndjson`, one
 * line per change of an entry (its whole state), appended and fsynced once per flush. Read back
 * at start, the last line of each entry id wins; a torn last line (a crash mid-write) is skipped.
 * When the file holds more than COMPACT_FACTOR × capacity lines it is rewritten with one line per
 * entry (temp file, fsync, rename), the newest `capacity` entries, as the ledger keeps them.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { GapEntry } from "../model/gaps.ts";

export const JOURNAL_FILE = "ledger.ndjson";
const COMPACT_FACTOR = 4;

export interface Restored {
  /** Entries by id, oldest first, at most `capacity`. */
  readonly entries: GapEntry[];
  /** Lines that could not be read (a torn last line after a crash). */
  readonly skipped: number;
  /** Lines in the file (the journal rewrites it once they pile up). */
  readonly lines: number;
}

export function readJournal(dir: string, capacity: number): Restored {
  let text: string;
  try {
    text = readFileSync(join(dir, JOURNAL_FILE), "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return { entries: [], skipped: 0, lines: 0 };
    throw e;
  }
  const byId = new Map<number, GapEntry>();
  let skipped = 0;
  let lines = 0;
  for (const line of text.split("\n")) {
    if (line.length === 0) continue;
    lines++;
    try {
      const e = JSON.parse(line) as GapEntry;
      if (typeof e.id !== "number" || typeof e.from_id !== "number") throw new Error("not an entry");
      byId.set(e.id, e);
    } catch {
      skipped++;
    }
  }
  const entries = [...byId.values()].sort((a, b) => a.id - b.id).slice(-capacity);
  return { entries, skipped, lines };
}

export class GapJournal {
  readonly #dir: string;
  readonly #dirty = new Map<number, GapEntry>();
  #fd: number;
  #lines: number;

  constructor(
    dir: string,
    readonly capacity: number,
    restoredLines: number,
  ) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
    this.#fd = openSync(join(dir, JOURNAL_FILE), "a");
    this.#lines = restoredLines;
  }

  /** `e` changed: written at the next flush. */
  note(e: GapEntry): void {
    this.#dirty.set(e.id, e);
  }

  /** Append the changed entries and make them durable; `all` is the ledger, for a rewrite. */
  flush(all: () => readonly GapEntry[]): void {
    if (this.#dirty.size === 0) return;
    let text = "";
    for (const e of this.#dirty.values()) text += `${JSON.stringify(e)}\n`;
    this.#dirty.clear();
    writeSync(this.#fd, text);
    fsyncSync(this.#fd);
    this.#lines += text.split("\n").length - 1;
    if (this.#lines > COMPACT_FACTOR * this.capacity) this.#rewrite(all());
  }

  #rewrite(entries: readonly GapEntry[]): void {
    const path = join(this.#dir, JOURNAL_FILE);
    const tmp = join(this.#dir, `.tmp-${JOURNAL_FILE}.partial`);
    const fd = openSync(tmp, "w");
    const text = entries.map((e) => JSON.stringify(e)).join("\n");
    writeSync(fd, entries.length > 0 ? `${text}\n` : "");
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.#fd);
    renameSync(tmp, path);
    const dirFd = openSync(this.#dir, "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
    this.#fd = openSync(path, "a");
    this.#lines = entries.length;
  }

  close(all: () => readonly GapEntry[]): void {
    this.flush(all);
    closeSync(this.#fd);
  }
}
