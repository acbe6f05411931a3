/**
 * Scrape K2's /metrics with the strict test parser (a malformed exposition is a finding, not
 * noise) and read values by name and labels.
 */
import { type Parsed, parsePrometheus } from "../../test/support/prometheus.ts";

export interface Metrics {
  /** How long the scrape took (it is also a latency probe of the process). */
  readonly scrapeMs: number;
  /** First sample with this name whose labels include `labels`; NaN when absent. */
  get(name: string, labels?: Record<string, string>): number;
  /** Sum over every label set of `name` (e.g. k2_frames_total over statuses). */
  sum(name: string, exclude?: (labels: Record<string, string>) => boolean): number;
}

function wrap(p: Parsed, scrapeMs: number): Metrics {
  return {
    scrapeMs,
    get(name, labels = {}) {
      const s = p.samples.find(
        (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
      );
      return s ? s.value : Number.NaN;
    },
    sum(name, exclude) {
      let n = 0;
      for (const s of p.samples) if (s.name === name && !exclude?.(s.labels)) n += s.value;
      return n;
    },
  };
}

export async function scrape(baseUrl: string, timeoutMs = 5000): Promise<Metrics> {
  const t0 = performance.now();
  const r = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  const text = await r.text();
  return wrap(parsePrometheus(text), performance.now() - t0);
}

/** Scrape, or undefined when K2 does not answer (crashed, restarting, stalled event loop). */
export async function tryScrape(baseUrl: string, timeoutMs = 5000): Promise<Metrics | undefined> {
  try {
    return await scrape(baseUrl, timeoutMs);
  } catch {
    return undefined;
  }
}

/** The handful of facts every sample and every scenario wants, in one flat object. */
export interface Snapshot {
  rssBytes: number;
  heapUsedBytes: number;
  lagP99Ms: number;
  lagMaxMs: number;
  openFds: number;
  ringFill: number;
  degradation: number;
  framesTotal: number;
  framesOk: number;
  rowsWritten: number;
  tradesAccepted: number;
  reconnects: number;
  rotations: number;
  uptimeRatio: number;
  shardsDelivering: number;
  gapsDetected: number;
  gapIdsRepaired: number;
  gapIdsMissingAtSource: number;
  gapBacklog: number;
  gapIdsPending: number;
  gapIdsUnrepaired: number;
  duplicatesDropped: number;
  writeFailures: number;
  deadLetters: number;
  restRequests: number;
  rateLimited: number;
  /** Share of the hot windows' capacity in use (NaN when K2 does not report it). */
  hotFill: number;
  /** Where RSS goes (src/obs/memory.ts, src/query/duck.ts); NaN when K2 does not report it. */
  memory: MemorySplit;
}

/** RSS by component, in bytes: what the soak needs to say where memory grows. */
export interface MemorySplit {
  rssAnon: number;
  rssFile: number;
  jsObjects: number;
  duckdb: number;
  parquetWorkerHeap: number;
  /** Hot-window columns written so far (resident as they fill): growth by design until full. */
  hotWindows: number;
  /** RSS right after K2's last full collection (src/obs/collector.ts): what survives it. */
  rssAfterGc: number;
}

export function snapshot(m: Metrics): Snapshot {
  return {
    rssBytes: m.get("process_resident_memory_bytes"),
    heapUsedBytes: m.get("process_heap_used_bytes"),
    lagP99Ms: m.get("nodejs_eventloop_lag_p99_seconds") * 1000,
    lagMaxMs: m.get("nodejs_eventloop_lag_max_seconds") * 1000,
    openFds: m.get("process_open_fds"),
    ringFill: m.get("k2_ring_fill_ratio"),
    degradation: m.get("k2_degradation_level"),
    framesTotal: m.sum("k2_frames_total"),
    framesOk: m.get("k2_frames_total", { status: "ok" }),
    rowsWritten: m.get("k2_rows_written_total"),
    tradesAccepted: m.get("k2_rows_accepted_total", { table: "trades" }),
    reconnects: m.get("k2_reconnects_total"),
    rotations: m.get("k2_rotations_total"),
    uptimeRatio: m.get("k2_uptime_ratio"),
    shardsDelivering: m.get("k2_shards_delivering"),
    gapsDetected: m.get("k2_gaps_detected_total"),
    gapIdsRepaired: m.get("k2_gap_ids_repaired_total"),
    gapIdsMissingAtSource: m.get("k2_gap_ids_missing_at_source_total"),
    gapBacklog: m.get("k2_gap_repair_backlog"),
    gapIdsPending: m.get("k2_gap_ids", { state: "pending" }) + m.get("k2_gap_ids", { state: "repairing" }),
    gapIdsUnrepaired: m.get("k2_gap_ids", { state: "unrepaired" }),
    duplicatesDropped: m.get("k2_duplicates_dropped_total"),
    writeFailures: m.get("k2_write_failures_total"),
    deadLetters: m.sum("k2_dead_letters_total"),
    restRequests: m.get("k2_rest_requests_total"),
    rateLimited: m.get("k2_api_rate_limited_total"),
    hotFill: m.get("k2_query_hot_rows") / m.get("k2_query_hot_capacity_rows"),
    memory: {
      rssAnon: m.get("k2_memory_rss_anon_bytes"),
      rssFile: m.get("k2_memory_rss_file_bytes"),
      jsObjects: m.get("k2_memory_js_objects_bytes"),
      duckdb: m.get("k2_query_duckdb_memory_bytes"),
      parquetWorkerHeap: m.get("k2_memory_parquet_worker_heap_bytes"),
      hotWindows: m.get("k2_query_hot_filled_bytes"),
      rssAfterGc: m.get("k2_memory_rss_after_full_gc_bytes"),
    },
  };
}
