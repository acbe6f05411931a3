/**
 * `k2 dlq stats`: one pass over the dead-letter entries → counts by reason (status_name) and by
 * source (the connection label, e.g. "shard-0:truncated"), first/last receive time, and what the
 * folder holds on disk. Lines readDlq could not parse are counted, not fatal.
 */
import type { DlqEntry } from "../sink/dlq/index.ts";
import { byCount, formatTable, isoUs } from "./table.ts";

export interface DlqFolder {
  /** Absolute path of `<data dir>/dlq`. */
  readonly dir: string;
  /** Dead-letter files, oldest first, with their size on disk. */
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
}

export interface DlqStats {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  readonly entries: number;
  /** Lines skipped: torn last line of a file being written or after a crash, or damaged. */
  readonly unreadable_lines: number;
  readonly first_recv_time_us: number | null;
  readonly last_recv_time_us: number | null;
  readonly by_reason: Record<string, number>;
  readonly by_source: Record<string, number>;
}

/** Entries without a source (written by other tools) are counted under this label. */
export const NO_SOURCE = "(none)";

export function collectStats(
  folder: DlqFolder,
  entries: Iterable<DlqEntry>,
  unreadable: () => number,
): DlqStats {
  const byReason = new Map<string, number>();
  const bySource = new Map<string, number>();
  let n = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of entries) {
    n++;
    byReason.set(e.statusName, (byReason.get(e.statusName) ?? 0) + 1);
    const src = e.source ?? NO_SOURCE;
    bySource.set(src, (bySource.get(src) ?? 0) + 1);
    // Files are in write order but receive times may interleave across shards: take min/max.
    if (e.recvTimeUs < first) first = e.recvTimeUs;
    if (e.recvTimeUs > last) last = e.recvTimeUs;
  }
  return {
    dir: folder.dir,
    files: folder.files.length,
    bytes: folder.files.reduce((s, f) => s + f.bytes, 0),
    entries: n,
    unreadable_lines: unreadable(),
    first_recv_time_us: n > 0 ? first : null,
    last_recv_time_us: n > 0 ? last : null,
    by_reason: Object.fromEntries(byCount(Object.fromEntries(byReason))),
    by_source: Object.fromEntries(byCount(Object.fromEntries(bySource))),
  };
}

export function formatStats(s: DlqStats): string {
  const time = (us: number | null) => (us === null ? "-" : isoUs(us));
  return [
    `dead-letter queue ${s.dir}`,
    formatTable(
      ["files", "bytes", "entries", "unreadable lines"],
      [[s.files, s.bytes, s.entries, s.unreadable_lines]],
    ),
    `  first received  ${time(s.first_recv_time_us)}`,
    `  last received   ${time(s.last_recv_time_us)}`,
    "",
    "by reason",
    formatTable(["reason", "entries"], byCount(s.by_reason)),
    "",
    "by source",
    formatTable(["source", "entries"], byCount(s.by_source)),
  ].join("\n");
}
