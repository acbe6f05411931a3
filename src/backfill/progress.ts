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
  if (o.status === "already_landed" && o.coveredBy)
    return o.coveredBy === "monthly"
      ? `${head}: already landed (its month's monthly file), nothing to do`
      : `${head}: already landed (every day's daily file), nothing to do`;
  if (o.status === "fell_back") {
    const e = o.error as (Error & { kind?: unknown }) | undefined;
    const kind = e instanceof ArchiveError ? e.kind : "error";
    return `${head}: monthly file FAILED ${kind}, nothing written, reading its ${o.job.days.length} daily files instead: ${o.error?.message}`;
  }
  if (o.status === "already_landed")
    return o.source === "rest"
      ? `${head}: already landed (whole day, archive or REST), nothing to do`
      : `${head}: already landed (sha256 ${o.sha256?.slice(0, 12)}…), nothing to do`;
  if (o.status === "failed") {
    const e = o.error as (Error & { kind?: unknown }) | undefined;
    const kind = e instanceof ArchiveError ? e.kind : typeof e?.kind === "string" ? e.kind : "error";
    return `${head}: FAILED ${kind}, skipped, nothing written: ${o.error?.message}`;
  }
  if (o.source === "rest") {
    const through = new Date((o.throughUs ?? 0) / 1000).toISOString().slice(11, 23);
    if (o.rows === 0)
      return `${head}: REST serves no trade in this day${o.complete ? "" : ` up to ${through} UTC`}, nothing written, ${secs(o.ms)}`;
    const state = o.complete
      ? "day complete"
      : `day still open at the source, read through ${through} UTC: run again after it ends`;
    const missing = o.missingAtSource ? `, ${o.missingAtSource} ids missing at the source` : "";
    return `${head}: landed ${o.rows} rows (${o.written} new, ${o.alreadyStored} already stored) in ${o.files} file${o.files === 1 ? "" : "s"} from REST, ${state}${missing}, ${secs(o.ms)}`;
  }
  return `${head}: landed ${o.rows} rows (${o.written} new, ${o.alreadyStored} already stored) in ${o.files} file${o.files === 1 ? "" : "s"}, ${secs(o.ms)}, sha256 ${o.sha256?.slice(0, 12)}…`;
}

export class Progress {
  #rows = 0;
  #done = 0;
  #lastDraw = 0;
  readonly #t0 = performance.now();
  /** Jobs under way → the share of each already read (REST days report it; archive files do not). */
  readonly #part = new Map<unknown, number>();

  constructor(
    public total: number,
    readonly write: (s: string) => void,
    /** What a job is called on the bar: archive `files`, REST `days`. */
    readonly unit = "files",
  ) {}

  rows(n: number): void {
    this.#rows += n;
    const now = performance.now();
    if (now - this.#lastDraw >= REDRAW_MS) this.draw(now);
  }

  /**
   * A job under way has read `fraction` (0..1) of itself: the ETA counts it, so a run of a few
   * long REST days (minutes each under the weight budget) shows an ETA before the first ends.
   */
  part(job: unknown, fraction: number): void {
    this.#part.set(job, Math.min(1, Math.max(0, fraction)));
    const now = performance.now();
    if (now - this.#lastDraw >= REDRAW_MS) this.draw(now);
  }

  /**
   * A file finished: the bar is cleared, `print` writes the file's line (to stderr, which on a
   * terminal shares the screen), then the bar is drawn again below it.
   */
  file(print: () => void, job?: unknown): void {
    this.#done++;
    this.#part.delete(job);
    this.write("\r\x1b[2K");
    print();
    this.draw(performance.now());
  }

  draw(now: number): void {
    this.#lastDraw = now;
    const s = Math.max(1e-3, (now - this.#t0) / 1000);
    let done = this.#done;
    for (const f of this.#part.values()) done += f;
    const filled = Math.round((this.#done / Math.max(1, this.total)) * BAR_WIDTH);
    const eta = done > 0 ? ((this.total - done) * s) / done : Number.NaN;
    const rate = this.#rows / s;
    this.write(
      `\r\x1b[2K[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${this.#done}/${this.total} ${this.unit}  ${rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M` : rate >= 1e4 ? `${Math.round(rate / 1e3)} k` : Math.round(rate)} rows/s  ETA ${Number.isNaN(eta) ? "?" : `${Math.ceil(eta)} s`}`,
    );
  }

  end(): void {
    this.draw(performance.now());
    this.write("\n");
  }
}
