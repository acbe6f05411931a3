/** Pipeline metrics: read from the stages' own counters at scrape time (nothing extra on the hot path). */
import { ALL_STATUSES, statusName } from "../decode/binance/index.ts";
import { TABLE_NAMES, Table } from "../model/tables.ts";
import type { Registry } from "../obs/metrics.ts";
import type { DegradationManager } from "../resilience/degradation.ts";
import type { SourceHealth } from "../source/health.ts";
import type { IngestSide } from "./ingest.ts";
import type { Intake } from "./source.ts";
import type { Storage } from "./storage.ts";

export function registerPipelineMetrics(
  reg: Registry,
  s: Intake & IngestSide,
  st: Storage,
  health: SourceHealth,
  degradation: DegradationManager,
  ring: {
    fillRatio(): number;
    size(): number;
    readonly capacity: number;
    readonly highWater: number;
    readonly totalRefused: number;
  },
  backpressure: { readonly pauses: number; readonly resumes: number; readonly paused: boolean },
): void {
  const { ingest, source, ledger, sequencer, repairer, rest, deadLetters } = s;
  // Registered first so that, at render time, the labelled gauges below are refreshed before they print.
  let refresh = () => {};
  reg.gauge("k2_metrics_refresh", "1 (labelled pipeline gauges refreshed at scrape)", () => {
    refresh();
    return 1;
  });
  const accepted = reg.gauge(
    "k2_rows_accepted_total",
    "rows accepted into the ring, by table (counter semantics)",
  );
  const decoded = reg.gauge("k2_frames_total", "frames by decode status (counter semantics)");
  const gapIds = reg.gauge("k2_gap_ids", "ids in the gap ledger by state");
  const dlq = reg.gauge("k2_dead_letters_total", "undecodable frames by reason (counter semantics)");
  refresh = () => {
    for (const t of TABLE_NAMES) accepted.setWith({ table: t }, ingest.accepted[Table[t]]!);
    for (const code of ALL_STATUSES)
      decoded.setWith({ status: statusName(code) }, ingest.statusCounts[code]!);
    for (const [state, n] of Object.entries(ledger.idCounts)) gapIds.setWith({ state }, n);
    for (const code of ALL_STATUSES) {
      const n = deadLetters.received[code]!;
      if (n > 0) dlq.setWith({ reason: statusName(code) }, n);
    }
  };
  reg.gauge("k2_ring_fill_ratio", "ring fill 0..1", () => ring.fillRatio());
  reg.gauge("k2_ring_rows", "rows waiting in the ring", () => ring.size());
  reg.gauge("k2_ring_capacity_rows", "ring capacity", () => ring.capacity);
  reg.gauge("k2_ring_high_water_rows", "most rows ever waiting in the ring", () => ring.highWater);
  reg.counter(
    "k2_ring_refused_total",
    "rows refused by a full ring (ledgered for repair)",
    () => ring.totalRefused,
  );
  reg.counter(
    "k2_backpressure_pauses_total",
    "times the sockets were paused because the ring was nearly full",
    () => backpressure.pauses,
  );
  reg.counter(
    "k2_backpressure_resumes_total",
    "times paused sockets were resumed after the ring drained",
    () => backpressure.resumes,
  );
  reg.gauge("k2_backpressure_paused", "1 while the sockets are paused for backpressure", () =>
    backpressure.paused ? 1 : 0,
  );
  reg.counter("k2_duplicates_dropped_total", "rows dropped as duplicates (overlap)", () => ingest.duplicates);
  reg.counter(
    "k2_frames_as_bytes_total",
    "row frames decoded and logged from the socket's bytes with no string (K2_WS_CLIENT=raw)",
    () => ingest.framesAsBytes,
  );
  reg.counter(
    "k2_rows_shed_total",
    "rows shed by the degradation manager (trades ledgered)",
    () => ingest.shed,
  );
  reg.counter("k2_wal_refused_total", "rows the WAL refused (ledgered for repair)", () => ingest.walRefused);
  reg.counter("k2_gaps_detected_total", "id gaps detected on the streams", () => sequencer.gaps);
  reg.counter("k2_gap_ids_repaired_total", "ids repaired from REST", () => repairer.repairedIds);
  reg.counter(
    "k2_gap_ids_missing_at_source_total",
    "ids REST confirmed do not exist",
    () => repairer.missingIds,
  );
  reg.gauge("k2_gap_repair_backlog", "gaps waiting for or under repair", () => repairer.backlog);
  reg.counter("k2_rest_requests_total", "REST requests sent", () => rest.requests);
  reg.counter("k2_rest_rate_limited_total", "REST 429 answers", () => rest.rateLimited);
  reg.counter("k2_rest_banned_total", "REST 418 answers", () => rest.bans);
  reg.gauge(
    "k2_rest_used_weight",
    "REST request weight used in the current minute (own count or X-MBX-USED-WEIGHT-1M, the higher)",
    () => rest.usedWeight,
  );
  reg.counter("k2_connection_attempts_total", "WebSocket connection attempts", () => source.attempts);
  reg.counter("k2_reconnects_total", "reconnects after a lost connection", () => source.reconnects);
  reg.counter("k2_rotations_total", "make-before-break rotations", () => source.rotations);
  reg.gauge(
    "k2_shards_delivering",
    "shards that delivered within the data timeout",
    () => health.delivering.filter(Boolean).length,
  );
  reg.gauge("k2_uptime_ratio", "share of time every shard delivered", () => health.uptimeRatio());
  reg.gauge("k2_dead_letter_buffered", "dead letters waiting to be persisted", () => deadLetters.size);
  reg.counter("k2_rows_written_total", "rows in visible Parquet files", () => st.batcher.rowsWritten);
  reg.counter("k2_files_written_total", "Parquet files committed", () => st.batcher.filesWritten);
  reg.gauge(
    "k2_memory_parquet_worker_heap_bytes",
    "JS heap of the Parquet writer worker(s) after their latest job (not in the main thread's heap)",
    () => st.pool.workerHeapBytes,
  );
  reg.counter("k2_write_failures_total", "failed Parquet writes (retried)", () => st.batcher.writeFailures);
  reg.gauge("k2_rows_pending_write", "accepted rows not yet in a visible file", () =>
    st.batcher.pendingRows(),
  );
  reg.gauge(
    "k2_sink_write_lag_seconds",
    "age of the oldest unwritten row",
    () => st.batcher.writeLagMs() / 1000,
  );
  reg.gauge("k2_catalog_files", "visible Parquet files", () => st.catalog.size);
  reg.gauge("k2_wal_durable_seq", "highest WAL seq confirmed by fsync", () => st.wal.durableSeq());
  reg.gauge("k2_wal_segments", "WAL segments on disk", () => st.wal.status().segments);
  reg.gauge("k2_degradation_level", "0 NORMAL .. 4 CIRCUIT_BREAK", () => degradation.level);
  const m = st.mirror;
  if (m) {
    reg.counter("k2_s3_uploads_total", "Parquet files stored in the object store", () => m.uploads);
    reg.counter("k2_s3_upload_failures_total", "failed uploads (retried)", () => m.uploadFailures);
    reg.counter("k2_s3_upload_bytes_total", "bytes uploaded to the object store", () => m.uploadBytes);
    reg.gauge("k2_s3_uploads_pending", "committed files waiting for the object store", () => m.pending);
    reg.counter("k2_s3_downloads_total", "files downloaded from the object store", () => m.downloads);
    reg.counter("k2_s3_deletes_total", "objects deleted after compaction or retention", () => m.deletes);
    reg.gauge("k2_s3_failing", "1 while the last object-store operation failed", () => (m.failing ? 1 : 0));
  }
}
