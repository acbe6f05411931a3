/** K2's configuration keys. Later issues add keys here; nothing else reads the environment. */
import { SYMBOL_RE } from "../model/symbols.ts";
import { host, int, type KeyDef, listOf, oneOf, powerOfTwo, text, url } from "./schema.ts";

export const STREAM_KINDS = ["trade", "aggTrade", "bookTicker"] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];
export const SOURCES = ["binance", "sim"] as const;
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
    unit: "path",
    description: "folder for Parquet files, WAL and dead-letter queue",
    default: "./data",
    parse: text(),
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
    description: `comma-separated stream kinds: ${STREAM_KINDS.join(",")}`,
    default: STREAM_KINDS.join(","),
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
  binanceRestUrl: {
    env: "K2_BINANCE_REST_URL",
    unit: "URL",
    description: "Binance REST base URL (gap repair)",
    default: "https://data-api.binance.vision",
    parse: url(["http", "https"]),
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
  ringCapacity: {
    env: "K2_RING_CAPACITY",
    unit: "rows",
    description: "ring queue capacity between decode and sink (power of two)",
    default: "65536",
    parse: powerOfTwo(1024, 16_777_216),
  },
  lagWindowMs: {
    env: "K2_LAG_WINDOW_MS",
    unit: "ms",
    description: "window over which event-loop lag p50/p99 are reported",
    default: "10000",
    parse: int(1000, 600_000),
  },
} as const satisfies Record<string, KeyDef<unknown>>;

export type KeyName = keyof typeof KEYS;
export type Config = {
  readonly [K in KeyName]: (typeof KEYS)[K]["parse"] extends (raw: string) => infer R
    ? R extends { ok: true; value: infer V }
      ? V
      : never
    : never;
};
