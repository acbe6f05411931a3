/**
 * What a backfill tells its operator: one line per archive file (always; stable words an
 * operator or a script can grep: `landed`, `already landed`, `FAILED <kind>`) and, on a
 * terminal, a progress bar redrawn in place (rows/s, files done/total, ETA).
 */
import { ArchiveError } from "../archive/index.ts";
import type { FileOutcome } from "./file.ts";
import { jobLabel } from "./plan.ts";

const BAR_WIDTH = 24;
/** Redraw the bar at most this often. */
const REDRAW_MS = 200;

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `BTCUSDT trades 2024-12-31: landed 81234 rows (81000 new, 234 already stored) in 1 file, 0.4 s, sha256 ab12cd34…` */
export function fileLine(o: FileOutcome): string {
  const head = jobLabel(o.job);
  if (o.status === "already_landed")
    return `${head}: already landed (sha256 ${o.sha256?.slice(0, 12)}…), nothing to do`;
  if (o.status === "failed") {
    const kind = o.error instanceof ArchiveError ? o.error.kind : "error";
    return `${head}: FAILED ${kind}, skipped, nothing written: ${o.error?.message}`;
  }
  return `${head}: landed ${o.rows} rows (${o.written} new, ${o.alreadyStored} already stored) in ${o.files} file${o.files === 1 ? "" : "s"}, ${secs(o.ms)}, sha256 ${o.sha256?.slice(0, 12)}…`;
}

export class Progress {
  #rows = 0;
  #done = 0;
  #lastDraw = 0;
  readonly #t0 = performance.now();

  constructor(
    readonly total: number,
    readonly write: (s: string) => void,
  ) {}

  rows(n: number): void {
    this.#rows += n;
    const now = performance.now();
    if (now - this.#lastDraw >= REDRAW_MS) this.draw(now);
  }

  /**
   * A file finished: the bar is cleared, `print` writes the file's line (to stderr, which on a
   * terminal shares the screen), then the bar is drawn again below it.
   */
  file(print: () => void): void {
    this.#done++;
    this.write("\r\x1b[2K");
    print();
    this.draw(performance.now());
  }

  draw(now: number): void {
    this.#lastDraw = now;
    const s = Math.max(1e-3, (now - this.#t0) / 1000);
    const filled = Math.round((this.#done / Math.max(1, this.total)) * BAR_WIDTH);
    const eta = this.#done > 0 ? ((this.total - this.#done) * s) / this.#done : Number.NaN;
    const rate = this.#rows / s;
    this.write(
      `\r\x1b[2K[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${this.#done}/${this.total} files  ${rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M` : `${Math.round(rate / 1e3)} k`} rows/s  ETA ${Number.isNaN(eta) ? "?" : `${Math.ceil(eta)} s`}`,
    );
  }

  end(): void {
    this.draw(performance.now());
    this.write("\n");
  }
}
