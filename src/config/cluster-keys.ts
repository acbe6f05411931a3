/**
 * The keys of a K2 spread over processes through NATS JetStream (docs/SCALING.md). With the
 * default role `all` none of them is read: one process, no NATS.
 */
import { MAX_SHARDS } from "../bus/subjects.ts";
import { int, type KeyDef, oneOf, type Parsed } from "./schema.ts";

/** all: one process (default) · recorder: source → bus · writer: bus → files · query: files → API. */
export const ROLES = ["all", "recorder", "writer", "query"] as const;
export type Role = (typeof ROLES)[number];

/** A comma list of nats:// servers (any one is enough to find the cluster). */
export function natsServers(): (raw: string) => Parsed<readonly string[]> {
  const expected = "a comma list of nats://host:port";
  return (raw) => {
    const items = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const good = items.every((s) => /^nats:\/\/[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(s));
    return items.length > 0 && good ? { ok: true, value: items } : { ok: false, expected };
  };
}

export const CLUSTER_KEYS = {
  role: {
    env: "K2_ROLE",
    unit: "role",
    description:
      "what this process does: all = everything in one process, no NATS (default); recorder = Binance → JetStream; writer = JetStream → Parquet (one shard); query = the shared folder → HTTP API",
    default: "all",
    parse: oneOf(ROLES),
  },
  natsUrl: {
    env: "K2_NATS_URL",
    unit: "list",
    description: "NATS servers of the JetStream cluster (roles recorder, writer, query)",
    default: "nats://127.0.0.1:4222",
    parse: natsServers(),
  },
  natsStream: {
    env: "K2_NATS_STREAM",
    unit: "name",
    description: "JetStream stream the recorders publish to and the writers read",
    default: "K2",
    parse: (raw: string): Parsed<string> =>
      /^[A-Za-z0-9_-]{1,64}$/.test(raw.trim())
        ? { ok: true, value: raw.trim() }
        : { ok: false, expected: "1-64 letters, digits, - or _" },
  },
  natsReplicas: {
    env: "K2_NATS_REPLICAS",
    unit: "copies",
    description: "copies of each message on different servers (3 survives one server lost)",
    default: "3",
    parse: int(1, 5),
  },
  natsDuplicateWindowMs: {
    env: "K2_NATS_DUPLICATE_WINDOW_MS",
    unit: "ms",
    description:
      "how long JetStream drops a repeated message id (a recorder's retry); writers drop repeated rows whatever the window",
    default: "120000",
    parse: int(1000, 86_400_000),
  },
  natsAckWaitMs: {
    env: "K2_NATS_ACK_WAIT_MS",
    unit: "ms",
    description:
      "a writer's messages not acked after this long go to it (or its replacement) again: how long a crashed writer's rows wait; at least 2 x K2_FLUSH_INTERVAL_MS",
    default: "10000",
    parse: int(1000, 3_600_000),
  },
  shards: {
    env: "K2_SHARDS",
    unit: "shards",
    description:
      "writer shards of the deployment (the same value on every recorder and writer): a symbol's rows go to shard hash(symbol) mod K2_SHARDS",
    default: "1",
    parse: int(1, MAX_SHARDS),
  },
  writerShard: {
    env: "K2_WRITER_SHARD",
    unit: "shard",
    description: "the shard this writer stores, 1..K2_SHARDS (role writer)",
    default: "1",
    parse: int(1, MAX_SHARDS),
  },
} as const satisfies Record<string, KeyDef<unknown>>;
