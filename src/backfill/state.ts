/**
 * A backfill's own folder, `<data dir>/.backfill/` (outside every `<table>/` tree, so neither the
 * catalog nor a `<table>/**\/*.parquet` glob sees it):
 *   lock          the running backfill's pid: one backfill per data folder at a time
 *   staging/      Parquet files of archive files still being read, in the same Hive layout;
 *                 moved into the data folder only once their archive file was read to its end
 *   landed.jsonl  one line per archive file that landed: {table, symbol, date, path, sha256, rows,
 *                 written}; the running owner reads it to adopt the files (catalog/adopt.ts).
 *                 A monthly file writes one line per day (the owner adopts by day partition):
 *                 every day but the last marked `part`, the last day's line is the file's own
 *                 (with the month's totals), so the file counts as landed only once all its
 *                 lines are there
 * A run that was killed leaves staging/ behind: the next run deletes it (nothing in it was
 * visible) and reads those archive files again; the stored-id check keeps that exactly once.
 */
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { BACKFILL_DIR, BACKFILL_JOURNAL } from "../catalog/index.ts";
import type { TableName } from "../model/index.ts";
import { fsyncDirSync } from "../sink/errno.ts";

/** The folder and journal names are the hand-over contract with the owner (catalog/adopt.ts). */
export const STATE_DIR = BACKFILL_DIR;

export interface Landed {
  /** The partition the owner lists to adopt the file's Parquet files (catalog/adopt.ts). */
  readonly table: TableName;
  readonly symbol: string;
  readonly date: string;
  readonly path: string;
  readonly sha256: string;
  readonly rows: number;
  readonly written: number;
  /**
   * REST days only (rest.ts): false when the day was still open at the source (its rows up to
   * the newest were committed; a later run fetches the rest), true when it was over.
   */
  readonly complete?: boolean;
  /**
   * A monthly file's line for one of its days other than the last: names a partition for the
   * owner to adopt, but does not on its own say the file landed (its last line does).
   */
  readonly part?: boolean;
}

export class BackfillLockedError extends Error {}

export class BackfillState {
  readonly dir: string;
  readonly stagingDir: string;
  readonly #landedPath: string;
  readonly #lockPath: string;
  /** Archive path → sha256 of the copy that landed. */
  readonly #landed = new Map<string, string>();
  /** Paths that landed whole: every archive file, and REST days that were over (`complete`). */
  readonly #whole = new Set<string>();

  private constructor(readonly dataDir: string) {
    this.dir = join(dataDir, STATE_DIR);
    this.stagingDir = join(this.dir, "staging");
    this.#landedPath = join(this.dir, BACKFILL_JOURNAL);
    this.#lockPath = join(this.dir, "lock");
  }

  /** Take the lock (or throw BackfillLockedError), drop what a killed run staged, read landed.jsonl. */
  static open(dataDir: string): BackfillState {
    const s = new BackfillState(dataDir);
    mkdirSync(s.dir, { recursive: true });
    s.#lock();
    rmSync(s.stagingDir, { recursive: true, force: true });
    mkdirSync(s.stagingDir, { recursive: true });
    s.#readLanded();
    return s;
  }

  #lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.#lockPath, "wx");
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== "EEXIST") throw e;
      }
      const pid = Number(readFileSync(this.#lockPath, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new BackfillLockedError(
          `another backfill (pid ${pid}) is running on ${this.dataDir}; wait for it or stop it first`,
        );
      unlinkSync(this.#lockPath); // left by a run that died: take it over
    }
    throw new BackfillLockedError(`could not take ${this.#lockPath}`);
  }

  #readLanded(): void {
    let text = "";
    try {
      text = readFileSync(this.#landedPath, "utf8");
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const l = JSON.parse(line) as Landed;
        if (typeof l.path === "string" && typeof l.sha256 === "string") this.#note(l);
      } catch {
        // A line a kill cut short: that file is read again (and deduplicated by id).
      }
    }
  }

  #note(l: Landed): void {
    if (l.part) return;
    this.#landed.set(l.path, l.sha256);
    if (l.complete !== false) this.#whole.add(l.path);
  }

  /** Did `path` (an archive file, or a REST day) land whole, whatever its checksum? */
  landedWhole(path: string): boolean {
    return this.#whole.has(path);
  }

  /** Did the archive file at `path` land with exactly this checksum? */
  landed(path: string, sha256: string): boolean {
    return this.#landed.get(path) === sha256;
  }

  /** Record a landed file (after its Parquet files were moved into place), durably. */
  noteLanded(l: Landed): void {
    this.noteLandedLines([l]);
  }

  /** Record lines in one append (one write) and one fsync; a monthly file's days go in one call. */
  noteLandedLines(lines: readonly Landed[]): void {
    appendFileSync(this.#landedPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const fd = openSync(this.#landedPath, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (const l of lines) this.#note(l);
  }

  /**
   * Move staged files to the same place under the data folder: each rename is atomic (same file
   * system), so a reader sees a whole file or none. Returns the visible paths.
   */
  commit(staged: readonly string[]): string[] {
    const out: string[] = [];
    const dirs = new Set<string>();
    for (const p of staged) {
      const dest = join(this.dataDir, relative(this.stagingDir, p));
      const dir = dirname(dest);
      if (!dirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        dirs.add(dir);
      }
      renameSync(p, dest);
      out.push(dest);
    }
    // The partition folder (its new entries) and, if it was just created, its parents.
    for (const d of dirs) for (const x of [d, dirname(d), dirname(dirname(d))]) fsyncDirSync(x);
    return out;
  }

  /** Delete staged files of an archive file that failed. */
  discard(staged: readonly string[]): void {
    for (const p of staged) rmSync(p, { force: true });
  }

  close(): void {
    rmSync(this.stagingDir, { recursive: true, force: true });
    rmSync(this.#lockPath, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}
