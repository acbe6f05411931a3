/**
 * loadConfig(argv, env): flag > env > default, parsed once, validated, frozen.
 * This is the only module that reads argv and the environment (main.ts passes them in).
 */
import pkg from "../../package.json" with { type: "json" };
import { type Config, KEYS, type KeyName, type KeyValues } from "./keys.ts";
import { nearest } from "./near.ts";
import { credentialsFrom, isS3Url, objectStoreConfig } from "./object-store.ts";

/** Keys whose values are secrets: never logged, never echoed in an error. */
export const isSecret = (env: string): boolean => /KEY|SECRET|TOKEN|PASSWORD/.test(env);

export class ConfigError extends Error {
  readonly kind = "config";
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`invalid ${key}=${JSON.stringify(value)}: expected ${expected}`);
  }
}

/** A rejected secret: `why` names the bad part (position, length), the value is not kept. */
export class SecretConfigError extends ConfigError {
  constructor(key: string, why: string) {
    super(key, "", why);
    this.message = `invalid ${key} (value not shown): ${why}`;
  }
}

/** An argument K2 does not know: named, with the nearest flag when one is close. */
export class UnknownArgumentError extends ConfigError {
  constructor(arg: string, near: string | undefined) {
    super("argument", arg, "a flag");
    this.message = `unknown argument ${JSON.stringify(arg)}${near ? `: did you mean ${near}?` : ""} (k2 --help lists every flag and command)`;
  }
}

/** `help`: print `text` and exit 0 (also for --version). */
export type LoadResult = { kind: "config"; config: Config } | { kind: "help"; text: string };

/** `K2_DATA_DIR` → `--data-dir`. */
export function flagName(env: string): string {
  return `--${env.replace(/^K2_/, "").toLowerCase().replace(/_/g, "-")}`;
}

const FLAG_TO_KEY = new Map<string, KeyName>(
  (Object.keys(KEYS) as KeyName[]).map((k) => [flagName(KEYS[k].env), k]),
);

function nearestFlag(name: string): string | undefined {
  const all = ["--help", "--version", ...FLAG_TO_KEY.keys()];
  return nearest(name, all);
}

type Wanted = "run" | "help" | "version";

function parseArgv(argv: readonly string[]): { flags: Map<KeyName, string>; wanted: Wanted } {
  const flags = new Map<KeyName, string>();
  let wanted: Wanted = "run";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    // `help` as a word only in first place: `k2 help` (a value such as a dir named help stays a value).
    if (arg === "--help" || arg === "-h" || (i === 0 && arg === "help")) {
      wanted = "help";
      continue;
    }
    if (arg === "--version" || arg === "-V") {
      if (wanted === "run") wanted = "version";
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAG_TO_KEY.get(name);
    if (key === undefined) throw new UnknownArgumentError(arg, nearestFlag(name));
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new ConfigError(name, "", "a value after the flag");
    flags.set(key, value);
  }
  return { flags, wanted };
}

export const versionText = (): string => `k2 ${pkg.version}`;

export function helpText(): string {
  const lines = [
    `${versionText()}: Binance market data → exactly-once Parquet → query API`,
    "",
    "usage:",
    "  k2 [--flag value ...]        run the service (flag > environment > default; keys below)",
    "  k2 query <command> [flags]   query a running K2 (k2 query --help)",
    "  k2 dlq stats|export|replay   read the dead-letter queue offline (k2 dlq --help)",
    "  k2 verify --date YYYY-MM-DD  completeness certificates of a day (k2 verify --help)",
    "  k2 backfill --symbols ...    load past days from Binance's public archive (k2 backfill --help)",
    "  k2 help | --help | -h        this text",
    "  k2 --version | -V            the version",
    "  (from a clone: bun run k2 ...)",
    "",
    "configuration keys:",
  ];
  for (const k of Object.keys(KEYS) as KeyName[]) {
    const d = KEYS[k];
    lines.push(`  ${flagName(d.env).padEnd(22)} ${d.env.padEnd(22)} [${d.unit}] default: ${d.default}`);
    lines.push(`      ${d.description}`);
  }
  return lines.join("\n");
}

/** Parse and validate. Throws ConfigError naming the key, the value and what was expected. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LoadResult {
  const { flags, wanted } = parseArgv(argv);
  if (wanted === "help") return { kind: "help", text: helpText() };
  if (wanted === "version") return { kind: "help", text: versionText() };
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(KEYS) as KeyName[]) {
    const def = KEYS[k];
    const fromFlag = flags.get(k);
    const fromEnv = env[def.env];
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : def.default);
    const parsed = (def.parse as (raw: string) => { ok: boolean; value?: unknown; expected?: string })(raw);
    if (!parsed.ok) {
      const where = fromFlag !== undefined ? flagName(def.env) : def.env;
      if (isSecret(def.env)) throw new SecretConfigError(where, parsed.expected ?? "not a valid value");
      throw new ConfigError(where, raw, parsed.expected ?? "a valid value");
    }
    out[k] =
      Object.isFrozen(parsed.value) || typeof parsed.value !== "object"
        ? parsed.value
        : Object.freeze(parsed.value);
  }
  const values = out as KeyValues;
  crossCheck(values);
  const config = Object.freeze({ ...values, ...storage(values, env) }) as Config;
  return { kind: "config", config };
}

/**
 * K2_DATA_DIR=s3://… : the files' home is the store, `dataDir` becomes the local working folder
 * (K2_LOCAL_DIR) so the rest of K2 never has to ask which kind of location it was given.
 */
function storage(
  v: KeyValues,
  env: Readonly<Record<string, string | undefined>>,
): Pick<Config, "dataDir" | "objectStore"> {
  if (!isS3Url(v.dataDir)) return { dataDir: v.dataDir, objectStore: undefined };
  const creds = credentialsFrom(env);
  if (!creds.ok) {
    // Names only: a credential's value must never reach a message or a log.
    throw new ConfigError(
      creds.missing,
      "",
      "a credential because K2_DATA_DIR is an s3:// URL: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    );
  }
  const store = objectStoreConfig(v.dataDir, v.s3Endpoint, v.s3Region, creds.value);
  if (!store) throw new ConfigError(KEYS.dataDir.env, v.dataDir, "an s3://bucket/prefix URL");
  return { dataDir: v.localDir, objectStore: store };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Rules that involve more than one key. */
function crossCheck(c: KeyValues): void {
  if (c.reconnectMaxMs < c.reconnectBaseMs) {
    throw new ConfigError(
      "K2_RECONNECT_MAX_MS",
      String(c.reconnectMaxMs),
      `at least K2_RECONNECT_BASE_MS (${c.reconnectBaseMs})`,
    );
  }
  // A kline checks the stored trades of its minute: without the trade stream there are none.
  if (c.streams.includes("kline") && !c.streams.includes("trade")) {
    throw new ConfigError(
      "K2_STREAMS",
      c.streams.join(","),
      "trade listed too when kline is (klines are checked against the stored trades)",
    );
  }
  // The partial-depth stream checks a local book: without the diffs there is none.
  if (c.streams.includes("depth20") && !c.streams.includes("depth")) {
    throw new ConfigError(
      "K2_STREAMS",
      c.streams.join(","),
      "depth listed too when depth20 is (the top-20 stream checks the books the diffs keep)",
    );
  }
  if (c.bookCheckpointMs % 1000 !== 0) {
    throw new ConfigError(
      "K2_BOOK_CHECKPOINT_MS",
      String(c.bookCheckpointMs),
      "whole seconds (a multiple of 1000)",
    );
  }
  // An API reachable from other machines must not be open to anyone.
  if (!LOOPBACK.has(c.host) && !c.host.startsWith("127.") && c.apiKeys.length === 0) {
    throw new ConfigError(
      "K2_API_KEYS",
      "",
      `at least one key because K2_HOST=${c.host} is not a loopback address`,
    );
  }
}

/** What to log at start: every key, nothing secret (a secret set is "***", unset "none"). */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(KEYS) as KeyName[]) {
    const v = config[k];
    const unset = v === "" || (Array.isArray(v) && v.length === 0);
    out[KEYS[k].env] = isSecret(KEYS[k].env) ? (unset ? "none" : "***") : v;
  }
  // `dataDir` holds the local folder; the log should show where the files really go.
  if (config.objectStore) out[KEYS.dataDir.env] = config.objectStore.url;
  return out;
}

/**
 * The start in one sentence, for a terminal (every key is in describeConfig, logged at debug):
 * where the market is, what is recorded and where the files go.
 */
export function startSummary(config: Config): string {
  const market =
    config.source === "sim" ? "the embedded simulator" : `binance at ${new URL(config.binanceWsUrl).host}`;
  const files = config.objectStore ? `${config.objectStore.url} (local ${config.dataDir})` : config.dataDir;
  return `${config.symbols.join(",")} ${config.streams.join(",")} from ${market} into ${files} (K2_LOG_LEVEL=debug logs every setting)`;
}

/** The process's own argv and environment: called once, by main.ts. */
export function loadConfigFromProcess(): LoadResult {
  return loadConfig(Bun.argv.slice(2), process.env);
}
