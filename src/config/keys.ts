/** K2's configuration keys. Later issues add keys here; nothing else reads the environment. */
import { SYMBOL_RE } from "../model/symbols.ts";
import { CLUSTER_KEYS } from "./cluster-keys.ts";
import { dataLocation, type ObjectStoreConfig, optionalHttpUrl, region } from "./object-store.ts";
import {
  bool,
  host,
  int,
  intOrOff,
  type KeyDef,
  listOf,
  oneOf,
  optionalList,
  powerOfTwo,
  secretList,
  text,
  url,
} from "./schema.ts";

/**
 * `kline` subscribes `<symbol>@kline_1m`: no table of its own, it checks the stored trades (issue 17).
 * `depth` subscribes the 100 ms diffs `<symbol>@depth@100ms` and keeps a book per symbol synced with
 * REST snapshots (src/book/); `depth20` the partial-depth stream `<symbol>@depth20@100ms`, which
 * only checks the local book (issue 18). Neither is on by default: a book costs REST weight.
 */
export const STREAM_KINDS = ["trade", "aggTrade", "bookTicker", "kline", "depth", "depth20"] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];
const DEFAULT_STREAMS: readonly StreamKind[] = ["trade", "aggTrade", "bookTicker", "kline"];
export const SOURCES = ["binance", "sim"] as const;
/** WebSocket clients for the market streams (src/source/binance/connection.ts). */
export const WS_CLIENTS = ["bun", "raw"] as const;
export type WsClientKind = (typeof WS_CLIENTS)[number];
/**
 * K2's own: end to end 1.6–2.4× the rows/s of Bun's at 0.4–0.6× the CPU per row (native-bench/
 * README.md "Frames as bytes"). Bun's stays as the fallback for a server raw does not get on with.
 */
export const DEFAULT_WS_CLIENT: WsClientKind = "raw";
export const HANDOVER_MODES = ["auto", "refuse"] as const;
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

export const KEYS = {
  port: {
    env: "K2_PORT",
    unit: "TCP port",
    description: "HTTP API port (0 = pick a free port)",
    default: "8000",
    parse: int(0, 65535),
  },
  host: {
    env: "K2_HOST",
    unit: "address",
    description: "address the HTTP API binds to",
    default: "127.0.0.1",
    parse: host(),
  },
  dataDir: {
    env: "K2_DATA_DIR",
    unit: "path or URL",
    description:
      "folder for Parquet files, WAL and dead-letter queue; or s3://bucket/prefix to keep the Parquet files in an S3-compatible store (credentials from S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; WAL, DLQ and a local copy of the files stay in K2_LOCAL_DIR)",
    default: "./data",
    parse: dataLocation(),
  },
  localDir: {
    env: "K2_LOCAL_DIR",
    unit: "path",
    description:
      "local working folder (WAL, DLQ, a copy of every Parquet file) when K2_DATA_DIR is an s3:// URL; unused otherwise",
    default: "./data",
    parse: text(),
  },
  s3Endpoint: {
    env: "K2_S3_ENDPOINT",
    unit: "URL",
    description: "S3-compatible endpoint (MinIO, R2, ...) when K2_DATA_DIR is an s3:// URL; empty = AWS S3",
    default: "",
    parse: optionalHttpUrl(),
  },
  s3Region: {
    env: "K2_S3_REGION",
    unit: "region",
    description: "region of the bucket when K2_DATA_DIR is an s3:// URL (R2: auto)",
    default: "us-east-1",
    parse: region(),
  },
  symbols: {
    env: "K2_SYMBOLS",
    unit: "list",
    description: "comma-separated Binance spot symbols (upper case, 2-20 letters/digits)",
    default: "BTCUSDT,ETHUSDT,BNBUSDT",
    parse: listOf<string>(
      (s) => SYMBOL_RE.test(s),
      "comma-separated symbols like BTCUSDT (A-Z, 0-9, 2-20 chars)",
    ),
  },
  streams: {
    env: "K2_STREAMS",
    unit: "list",
    description: `comma-separated stream kinds: ${STREAM_KINDS.join(",")} (kline: closed 1m klines reconcile the stored trades, needs trade; listing trade without kline turns that off; depth: order books from 100 ms diffs and REST snapshots; depth20: checks the books against the top-20 stream, needs depth)`,
    default: DEFAULT_STREAMS.join(","),
    parse: listOf<StreamKind>(
      (s) => (STREAM_KINDS as readonly string[]).includes(s),
      `comma-separated stream kinds from ${STREAM_KINDS.join(",")}`,
    ),
  },
  source: {
    env: "K2_SOURCE",
    unit: "name",
    description: "binance (real endpoints) or sim (embedded simulator on loopback)",
    default: "binance",
    parse: oneOf(SOURCES),
  },
  binanceWsUrl: {
    env: "K2_BINANCE_WS_URL",
    unit: "URL",
    description: "Binance market-stream WebSocket base URL",
    default: "wss://data-stream.binance.vision",
    parse: url(["ws", "wss"]),
  },
  wsClient: {
    env: "K2_WS_CLIENT",
    unit: "name",
    description:
      "which WebSocket client reads the market streams: raw (K2's own over Bun.connect: no event object per frame, and row frames reach the decoder and the WAL as bytes with no string) or bun (Bun's WebSocket, the fallback should a venue's server not get on with raw)",
    default: DEFAULT_WS_CLIENT,
    parse: oneOf(WS_CLIENTS),
  },
  binanceRestUrl: {
    env: "K2_BINANCE_REST_URL",
    unit: "URL",
    description: "Binance REST base URL (gap repair)",
    default: "https://data-api.binance.vision",
    parse: url(["http", "https"]),
  },
  archiveUrl: {
    env: "K2_ARCHIVE_URL",
    unit: "URL",
    description:
      "root of Binance's public data archive (daily zips + CHECKSUM files): k2 backfill downloads from it, certificates compare with it; file:///path reads a copy of the archive's layout on disk",
    default: "https://data.binance.vision",
    parse: url(["http", "https", "file"]),
  },
  logLevel: {
    env: "K2_LOG_LEVEL",
    unit: "level",
    description: `log level: ${LOG_LEVELS.join("|")}`,
    default: "info",
    parse: oneOf(LOG_LEVELS),
  },
  shutdownGraceMs: {
    env: "K2_SHUTDOWN_GRACE_MS",
    unit: "ms",
    description: "longest time a SIGTERM/SIGINT drain may take before exit",
    default: "10000",
    parse: int(0, 600_000),
  },
  handover: {
    env: "K2_HANDOVER",
    unit: "mode",
    description:
      "a K2 started on a data dir another K2 owns: auto = take over from it on the same port without a gap (the one-command upgrade), refuse = exit 2 at once",
    default: "auto",
    parse: oneOf(HANDOVER_MODES),
  },
  handoverTimeoutMs: {
    env: "K2_HANDOVER_TIMEOUT_MS",
    unit: "ms",
    description:
      "longest a hand-over may take, from the new K2's start to the old one's exit; past it the new one gives up (exit 2) and the old one carries on",
    default: "30000",
    parse: int(1000, 600_000),
  },
  ringCapacity: {
    env: "K2_RING_CAPACITY",
    unit: "rows",
    description: "ring queue capacity between decode and sink (power of two)",
    default: "65536",
    parse: powerOfTwo(1024, 16_777_216),
  },
  dataTimeoutMs: {
    env: "K2_DATA_TIMEOUT_MS",
    unit: "ms",
    description: "a connection silent this long is stalled and is replaced",
    default: "10000",
    parse: int(50, 3_600_000),
  },
  rotateAfterMs: {
    env: "K2_ROTATE_AFTER_MS",
    unit: "ms",
    description: "make-before-break rotation of each connection (Binance cuts at 24 h)",
    default: "82800000",
    parse: int(1000, 86_000_000),
  },
  streamsPerConnection: {
    env: "K2_STREAMS_PER_CONNECTION",
    unit: "streams",
    description: "streams per WebSocket connection (Binance allows 1024)",
    default: "1024",
    parse: int(1, 1024),
  },
  reconnectBaseMs: {
    env: "K2_RECONNECT_BASE_MS",
    unit: "ms",
    description: "first reconnect backoff ceiling (doubles per attempt, full jitter)",
    default: "1000",
    parse: int(1, 600_000),
  },
  reconnectMaxMs: {
    env: "K2_RECONNECT_MAX_MS",
    unit: "ms",
    description: "reconnect backoff cap",
    default: "128000",
    parse: int(1, 3_600_000),
  },
  healthyAfterMs: {
    env: "K2_HEALTHY_AFTER_MS",
    unit: "ms",
    description: "a connection delivering this long resets the backoff",
    default: "60000",
    parse: int(1, 3_600_000),
  },
  connectMinIntervalMs: {
    env: "K2_CONNECT_MIN_INTERVAL_MS",
    unit: "ms",
    description: "least time between two new connections (Binance: 1 per second)",
    default: "1000",
    parse: int(0, 60_000),
  },
  connectMaxPer5Min: {
    env: "K2_CONNECT_MAX_PER_5MIN",
    unit: "attempts",
    description: "connection attempts allowed per 5 minutes (Binance: 300 per IP)",
    default: "300",
    parse: int(1, 300),
  },
  healthDataMs: {
    env: "K2_HEALTH_DATA_MS",
    unit: "ms",
    description: "data health tier: is every connection delivering?",
    default: "1000",
    parse: int(10, 60_000),
  },
  healthMgmtMs: {
    env: "K2_HEALTH_MGMT_MS",
    unit: "ms",
    description: "management health tier: reconnect state, gap backlog, ring fill",
    default: "10000",
    parse: int(10, 600_000),
  },
  healthControlMs: {
    env: "K2_HEALTH_CONTROL_MS",
    unit: "ms",
    description: "control health tier: overall readiness",
    default: "30000",
    parse: int(10, 600_000),
  },
  restWeightBudget: {
    env: "K2_REST_WEIGHT_BUDGET",
    unit: "weight/min",
    description: "REST request weight K2 may use per minute (Binance: 6000 per IP)",
    default: "6000",
    parse: int(1, 6000),
  },
  bookSnapshotLimit: {
    env: "K2_BOOK_SNAPSHOT_LIMIT",
    unit: "levels",
    description:
      "levels per side asked of a REST depth snapshot when a book (re)syncs; its weight is 5 (≤100), 25 (≤500), 50 (≤1000) or 250 (≤5000); deeper levels are marked beyond the snapshot until an update touches them",
    default: "1000",
    parse: int(1, 5000),
  },
  bookSnapshotMs: {
    env: "K2_BOOK_SNAPSHOT_MS",
    unit: "ms",
    description: "interval of the stored top-of-book snapshots (book_snapshots), aligned to the clock",
    default: "1000",
    parse: int(100, 3_600_000),
  },
  bookLevels: {
    env: "K2_BOOK_LEVELS",
    unit: "levels",
    description: "levels per side in each stored top-of-book snapshot",
    default: "20",
    parse: int(1, 256),
  },
  bookCheckpointMs: {
    env: "K2_BOOK_CHECKPOINT_MS",
    unit: "ms",
    description:
      "interval of the full-depth book checkpoints (book_checkpoints) that bound how many deltas rebuilding an instant reads; whole seconds",
    default: "60000",
    parse: int(1000, 3_600_000),
  },
  gapRepairMaxAttempts: {
    env: "K2_GAP_REPAIR_MAX_ATTEMPTS",
    unit: "attempts",
    description: "failed REST calls before a gap is marked unrepaired",
    default: "8",
    parse: int(1, 1000),
  },
  gapMaxIds: {
    env: "K2_GAP_MAX_IDS",
    unit: "ids",
    description: "largest gap repaired from REST; larger gaps are ledgered as unrepaired",
    default: "1000000",
    parse: int(1, 100_000_000),
  },
  simRate: {
    env: "K2_SIM_RATE",
    unit: "trades/s/symbol",
    description: "trade rate of the embedded simulator (K2_SOURCE=sim)",
    default: "20",
    parse: int(1, 1_000_000),
  },
  simSeed: {
    env: "K2_SIM_SEED",
    unit: "number",
    description: "seed of the embedded simulator's generated market",
    default: "42",
    parse: int(0, 2 ** 31 - 1),
  },
  walFsyncMs: {
    env: "K2_WAL_FSYNC_MS",
    unit: "ms",
    description: "the write-ahead log is fsynced at most this often (0 = every flush)",
    default: "100",
    parse: int(0, 10_000),
  },
  walWorker: {
    env: "K2_WAL_WORKER",
    unit: "bool",
    description:
      "true: the WAL's checksums, writes and fsyncs run on a Worker thread, the main thread only copies frames into shared memory (halves its WAL time; no end-to-end gain measured on 2 cores)",
    default: "false",
    parse: bool(),
  },
  batchMaxRows: {
    env: "K2_BATCH_MAX_ROWS",
    unit: "rows",
    description:
      "a Parquet file is cut when a (table, date, symbol) batch reaches this many rows; also the most rows one merge of small files holds (the Parquet worker keeps them all in memory at once: higher means fewer, larger merged files and a higher memory peak per merge)",
    default: "100000",
    parse: int(1, 10_000_000),
  },
  flushIntervalMs: {
    env: "K2_FLUSH_INTERVAL_MS",
    unit: "ms",
    description: "...or when its oldest row is this old, so data is queryable quickly",
    default: "1000",
    parse: int(10, 3_600_000),
  },
  retentionDays: {
    env: "K2_RETENTION_DAYS",
    unit: "days",
    description: "delete partitions older than this many days (0 = keep everything)",
    default: "0",
    parse: int(0, 36_500),
  },
  maintenanceIntervalMs: {
    env: "K2_MAINTENANCE_INTERVAL_MS",
    unit: "ms",
    description: "how often compaction, retention and the object-store reconcile run",
    default: "30000",
    parse: int(100, 86_400_000),
  },
  compactMinFiles: {
    env: "K2_COMPACT_MIN_FILES",
    unit: "files",
    description:
      "a partition with at least this many small files (under half of K2_BATCH_MAX_ROWS rows each) gets them merged into one",
    default: "32",
    parse: int(2, 100_000),
  },
  deadLetterMaxBytes: {
    env: "K2_DLQ_MAX_BYTES",
    unit: "bytes",
    description: "size cap of the dead-letter files on disk (oldest deleted first, counted)",
    default: "268435456",
    parse: int(65_536, 1_099_511_627_776),
  },
  rssBudgetMb: {
    env: "K2_RSS_BUDGET_MB",
    unit: "MiB",
    description: "resident memory budget; the degradation level rises as RSS nears it",
    default: "2048",
    parse: int(64, 1_048_576),
  },
  queryThreads: {
    env: "K2_QUERY_THREADS",
    unit: "threads",
    description: "DuckDB threads (kept low so ingestion keeps its core)",
    default: "1",
    parse: int(1, 64),
  },
  queryMemoryMb: {
    env: "K2_QUERY_MEMORY_MB",
    unit: "MiB",
    description: "DuckDB memory limit",
    default: "512",
    parse: int(16, 1_048_576),
  },
  queryAllocatorKeepMb: {
    env: "K2_QUERY_ALLOCATOR_KEEP_MB",
    unit: "MiB",
    description:
      "freed memory DuckDB's allocator may keep after a query before it returns it to the OS (DuckDB's allocator_flush_threshold; higher trades RSS for fewer page faults)",
    default: "16",
    parse: int(1, 1_048_576),
  },
  queryHotRows: {
    env: "K2_QUERY_HOT_ROWS",
    unit: "rows",
    description:
      "recent rows kept in memory per table and symbol for queries (49 B a trade, 65 B an agg trade, 56 B a quote; resident memory grows until full)",
    default: "50000",
    parse: int(1000, 100_000_000),
  },
  queryMaxScanRows: {
    env: "K2_QUERY_MAX_SCAN_ROWS",
    unit: "rows",
    description: "a query whose files hold more rows is refused with 413",
    default: "50000000",
    parse: int(1000, 10_000_000_000),
  },
  queryMaxRangeDays: {
    env: "K2_QUERY_MAX_RANGE_DAYS",
    unit: "days",
    description: "a longer time range is refused with 422",
    default: "366",
    parse: int(1, 36_500),
  },
  queryCandleCache: {
    env: "K2_QUERY_CANDLE_CACHE",
    unit: "partials",
    description:
      "candle partials cached per immutable Parquet file (~200 B each; 0 turns the cache off; a day of 1-min candles is 1,440)",
    default: "200000",
    parse: int(0, 100_000_000),
  },
  queryRowCache: {
    env: "K2_QUERY_ROW_CACHE",
    unit: "cells",
    description:
      "cells (rows × columns) of stored-row query results cached, keyed by their immutable files (0 turns the cache off; a 100-row trade page is ~1,000)",
    default: "500000",
    parse: int(0, 100_000_000),
  },
  apiKeys: {
    env: "K2_API_KEYS",
    unit: "list",
    description: "comma-separated API keys (X-API-Key); required when K2_HOST is not loopback",
    default: "",
    parse: secretList(16, 256, /^[A-Za-z0-9._~+/=-]+$/, "A-Z a-z 0-9 . _ ~ + / = -"),
  },
  metricsPublic: {
    env: "K2_METRICS_PUBLIC",
    unit: "bool",
    description:
      "true: /metrics answers without an API key even when K2 listens off loopback (false: off loopback, /metrics asks for a key from K2_API_KEYS like /v1)",
    default: "false",
    parse: bool(),
  },
  rateLimitPerSec: {
    env: "K2_RATE_LIMIT_PER_S",
    unit: "req/s",
    description: "sustained requests per second per API key",
    default: "50",
    parse: int(1, 1_000_000),
  },
  rateLimitBurst: {
    env: "K2_RATE_LIMIT_BURST",
    unit: "requests",
    description: "burst allowance per API key",
    default: "100",
    parse: int(1, 1_000_000),
  },
  corsOrigins: {
    env: "K2_CORS_ORIGINS",
    unit: "list",
    description: "allowed browser origins (* = any; empty = no CORS headers)",
    default: "",
    parse: optionalList(
      /^(\*|https?:\/\/[A-Za-z0-9.:-]+)$/,
      "comma-separated origins like https://app.example or *",
    ),
  },
  maxBodyBytes: {
    env: "K2_MAX_BODY_BYTES",
    unit: "bytes",
    description: "largest request body",
    default: "65536",
    parse: int(1024, 16_777_216),
  },
  gcIntervalMs: {
    env: "K2_GC_INTERVAL_MS",
    unit: "ms",
    description:
      "a full garbage collection this often, so uncollected garbage cannot pile up over hours (0 = only the runtime's own)",
    default: "60000",
    parse: intOrOff(1000, 3_600_000),
  },
  lagWindowMs: {
    env: "K2_LAG_WINDOW_MS",
    unit: "ms",
    description: "window over which event-loop lag p50/p99 are reported",
    default: "10000",
    parse: int(1000, 600_000),
  },
  ...CLUSTER_KEYS,
} as const satisfies Record<string, KeyDef<unknown>>;

export type KeyName = keyof typeof KEYS;
/** The keys' parsed values. */
export type KeyValues = {
  readonly [K in KeyName]: (typeof KEYS)[K]["parse"] extends (raw: string) => infer R
    ? R extends { ok: true; value: infer V }
      ? V
      : never
    : never;
};

/**
 * What the rest of K2 reads. `dataDir` is always the local folder (K2_LOCAL_DIR when K2_DATA_DIR
 * is an s3:// URL); `objectStore` is set only then (load.ts derives both).
 */
export type Config = KeyValues & { readonly objectStore: ObjectStoreConfig | undefined };
