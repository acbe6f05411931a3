/**
 * Where resident memory goes, per component, cheaply enough to scrape every few seconds. RSS alone
 * cannot say whether growth is the JS heap, native buffers, DuckDB (its own allocator, reported by
 * the engine) or mapped files; a soak that fails its slope gate should say.
 * Not here: Bun's allocator "committed" figure (bun:jsc memoryUsage().currentCommit). It only ever
 * grows (21 GB after an hour's soak with RSS at 450 MB), so it told nothing about residency.
 * Note: process.memoryUsage().heapUsed counts ArrayBuffer contents that were reserved but never
 * touched (the hot windows' rings), so it can read larger than RSS; the split below does not.
 */

import { readFileSync } from "node:fs";
import type { Registry } from "./metrics.ts";

export interface ProcStatusMemory {
  /** Anonymous resident pages (heaps of every allocator, stacks). */
  readonly rssAnonBytes: number;
  /** File-backed resident pages (the executable, shared libraries, mapped files). */
  readonly rssFileBytes: number;
}

/** Parses the RssAnon/RssFile lines of /proc/<pid>/status (kB); NaN for a field that is absent. */
export function parseProcStatusMemory(text: string): ProcStatusMemory {
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  };
  return { rssAnonBytes: kb("RssAnon"), rssFileBytes: kb("RssFile") };
}

/** /proc/self/status read once per scrape and shared by both gauges (Linux; NaN elsewhere). */
function procStatusReader(): () => ProcStatusMemory {
  let at = -1;
  let last: ProcStatusMemory = { rssAnonBytes: Number.NaN, rssFileBytes: Number.NaN };
  return () => {
    const now = performance.now();
    if (now - at < 100) return last;
    at = now;
    try {
      last = parseProcStatusMemory(readFileSync("/proc/self/status", "utf8"));
    } catch {
      last = { rssAnonBytes: Number.NaN, rssFileBytes: Number.NaN };
    }
    return last;
  };
}

export function registerMemoryMetrics(reg: Registry): void {
  const status = procStatusReader();
  reg.gauge(
    "k2_memory_rss_anon_bytes",
    "resident anonymous memory (every allocator's heap); NaN off Linux",
    () => status().rssAnonBytes,
  );
  reg.gauge(
    "k2_memory_rss_file_bytes",
    "resident file-backed memory (executable, libraries, mapped files); NaN off Linux",
    () => status().rssFileBytes,
  );
  // heapTotal, not heapUsed - external: the latter is read at different moments and went negative.
  reg.gauge(
    "k2_memory_js_objects_bytes",
    "main thread JS heap reserved for objects, without ArrayBuffer/string contents",
    () => process.memoryUsage().heapTotal,
  );
  reg.gauge(
    "k2_memory_js_external_bytes",
    "ArrayBuffer and string contents owned by main-thread JS objects (reserved, not necessarily resident)",
    () => process.memoryUsage().external,
  );
}
