/**
 * `k2 query ...` arguments → one HTTP request against a running K2 (pure: no I/O, the clock is
 * passed in). Bad input throws CliArgError with a one-line message; the runner exits 2 with it.
 * Values are checked by the server's own value module (src/http/routes/v1/values.ts), so the CLI
 * and the API say the same thing about the same mistake, before any request is made.
 */
import { HttpError } from "../http/errors.ts";
import { dateValue, intValue, oneOfValue, symbolValue, timeValueUs } from "../http/routes/v1/values.ts";

export class CliArgError extends Error {}

export const DEFAULT_URL = "http://127.0.0.1:8000";
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Rows printed at most while following cursors, unless --max-rows says otherwise. */
export const DEFAULT_MAX_ROWS = 1_000_000;
const MAX_MAX_ROWS = 100_000_000;
/** The server's lists, kept here so `k2 query` loads no query engine; args.test.ts compares them. */
export const FORMATS = ["json", "csv", "ndjson", "parquet", "msgpack"] as const;
export const INTERVALS = ["1s", "1m", "5m", "15m", "30m", "1h", "4h", "1d"] as const;

/** What a flag becomes (`param`: its query parameter) and how its value is checked. */
interface FlagSpec {
  readonly param?: string;
  readonly check?: (v: string, flag: string) => string;
}

/** A server value check for a flag: its HttpError becomes the CLI's one-line error. */
export const cliCheck =
  <T>(check: (v: string, flag: string) => T) =>
  (v: string, flag: string): T => {
    try {
      return check(v, flag);
    } catch (e) {
      if (e instanceof HttpError) throw new CliArgError(e.message);
      throw e;
    }
  };
/** The check as a FlagSpec check: the value is sent as given (after the check) unless `out` says. */
const asFlag =
  <T>(check: (v: string, flag: string) => T, out: (v: string, parsed: T) => string = (v) => v) =>
  (v: string, flag: string): string =>
    out(v, cliCheck(check)(v, flag));

const symbol = asFlag(symbolValue, (_, s) => s);
const oneOf = (xs: readonly string[]) => asFlag((v, flag) => oneOfValue(v, flag, xs));
const positiveInt = (max: number) => asFlag((v, flag) => intValue(v, flag, 1, max));
const time = asFlag(timeValueUs);
const date = asFlag(dateValue);

const RANGE: Record<string, FlagSpec> = {
  "--start": { param: "start", check: time },
  "--end": { param: "end", check: time },
  "--since": {
    check: (v, flag) => {
      parseDurationMs(v, flag);
      return v;
    },
  },
};
const ROWS: Record<string, FlagSpec> = {
  "--symbol": { param: "symbol", check: symbol },
  ...RANGE,
  "--limit": { param: "limit", check: positiveInt(10_000) },
  "--order": { param: "order", check: oneOf(["asc", "desc"]) },
  "--cursor": { param: "cursor" },
};

interface Command {
  readonly path: string;
  readonly flags: Record<string, FlagSpec>;
  readonly required: readonly string[];
  readonly usage: string;
}

const COMMANDS: Record<string, Command> = {
  trades: { path: "/v1/trades", flags: ROWS, required: ["--symbol"], usage: "trades of one symbol" },
  "agg-trades": {
    path: "/v1/agg-trades",
    flags: ROWS,
    required: ["--symbol"],
    usage: "aggregate trades of one symbol",
  },
  quotes: { path: "/v1/quotes", flags: ROWS, required: ["--symbol"], usage: "best bid/ask of one symbol" },
  recent: {
    path: "/v1/trades/recent",
    flags: {
      "--symbol": ROWS["--symbol"]!,
      "--minutes": { param: "minutes", check: positiveInt(60) },
      "--limit": ROWS["--limit"]!,
      "--cursor": ROWS["--cursor"]!,
    },
    required: ["--symbol"],
    usage: "trades of the last 1-60 minutes, newest first",
  },
  ohlcv: {
    path: "/v1/ohlcv",
    flags: {
      "--symbol": ROWS["--symbol"]!,
      "--interval": { param: "interval", check: oneOf(INTERVALS) },
      ...RANGE,
      "--limit": ROWS["--limit"]!,
      "--fill": { param: "fill", check: oneOf(["none", "previous"]) },
      "--order": ROWS["--order"]!,
      "--cursor": ROWS["--cursor"]!,
    },
    required: ["--symbol", "--interval"],
    usage: "OHLCV candles from trades",
  },
  summary: {
    path: "/v1/summary/:symbol",
    flags: { "--symbol": ROWS["--symbol"]!, "--date": { param: "date", check: date } },
    required: ["--symbol"],
    usage: "daily OHLC, volume, vwap, trade count and gaps",
  },
  symbols: { path: "/v1/symbols", flags: {}, required: [], usage: "symbols with stored coverage" },
  gaps: {
    path: "/v1/gaps",
    flags: { "--symbol": ROWS["--symbol"]! },
    required: [],
    usage: "the gap ledger (repaired / missing at source / unrepaired)",
  },
};
export const QUERY_COMMANDS = Object.keys(COMMANDS);

/** Flags every command takes; not sent as query parameters. */
const COMMON: Record<string, FlagSpec> = {
  "--url": {},
  "--api-key": {},
  "--format": { param: "format", check: oneOf(FORMATS) },
  "--timeout-ms": { check: positiveInt(600_000) },
  "--max-rows": { check: positiveInt(MAX_MAX_ROWS) },
};

export const QUERY_HELP = `k2 query <command> [flags] — query a running K2 server; the response body goes to stdout

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(11)} ${c.usage}`)
  .join("\n")}

flags (per command: k2 query <command> --help):
  --url URL          server (default ${DEFAULT_URL})
  --api-key KEY      sent as X-API-Key (or set K2_API_KEY)
  --format F         ${FORMATS.join("|")} (default json)
  --timeout-ms N     give up after N ms (default ${DEFAULT_TIMEOUT_MS})
  --max-rows N       follow next_cursor until the end or N rows (default ${DEFAULT_MAX_ROWS}); when it
                     stops early, stderr gives the --cursor to go on from. --limit is the page size.
                     Parquet and msgpack pages cannot be joined: one page, and stderr says if more follow.

examples:
  bun run k2 query trades --symbol BTCUSDT --since 1h --format csv
  bun run k2 query ohlcv --symbol BTCUSDT --interval 1m --start 2024-01-01 --end 2024-01-02
  bun run k2 query summary --symbol BTCUSDT --date 2024-01-01

exit codes: 0 ok, 1 request failed (the server's message on stderr), 2 bad arguments`;

function commandHelp(name: string, c: Command): string {
  const flags = Object.keys(c.flags).map((f) => (c.required.includes(f) ? `${f} (required)` : f));
  return [
    `k2 query ${name} — ${c.usage} (GET ${c.path})`,
    `  flags: ${[...flags, ...Object.keys(COMMON)].join(", ")}`,
    ...(c.flags["--since"]
      ? ["  --since D: start = now - D, D like 90s, 15m, 1h, 2d (instead of --start)"]
      : []),
    "  --start/--end: ISO-8601 or epoch ms; end is exclusive",
  ].join("\n");
}

export interface QueryRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  /** The command pages with cursors (rows, recent, candles); the others answer in one response. */
  readonly pages: boolean;
  readonly format: string;
  /** --limit: the page size, when given. */
  readonly pageRows: number | undefined;
  readonly maxRows: number;
}

export type ParsedQuery = { kind: "help"; text: string } | { kind: "request"; request: QueryRequest };

const DURATION_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h", "2d" → ms. */
export function parseDurationMs(text: string, flag = "--since"): number {
  const m = /^(\d{1,7})([smhd])$/.exec(text);
  if (!m || Number(m[1]) === 0)
    throw new CliArgError(`${flag}: expected a duration like 90s, 15m, 1h or 2d, got "${text}"`);
  return Number(m[1]) * DURATION_MS[m[2]!]!;
}

/**
 * argv after `query` (e.g. ["trades", "--symbol", "BTCUSDT"]) → the request to make.
 * `env` supplies K2_API_KEY when --api-key is absent; `nowMs` resolves --since.
 */
export function parseQueryArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  nowMs = Date.now(),
): ParsedQuery {
  const [name, ...rest] = argv;
  if (name === undefined) throw new CliArgError(`missing command: one of ${QUERY_COMMANDS.join(", ")}`);
  if (name === "--help" || name === "-h" || name === "help") return { kind: "help", text: QUERY_HELP };
  const cmd = COMMANDS[name];
  if (!cmd) throw new CliArgError(`unknown command "${name}": expected one of ${QUERY_COMMANDS.join(", ")}`);
  if (rest.includes("--help") || rest.includes("-h")) return { kind: "help", text: commandHelp(name, cmd) };

  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = cmd.flags[flag] ?? COMMON[flag];
    if (!spec)
      throw new CliArgError(
        arg.startsWith("-")
          ? `unknown flag ${flag} for "${name}" (see k2 query ${name} --help)`
          : `unexpected argument "${arg}" (flags take the form --name value)`,
      );
    if (values.has(flag)) throw new CliArgError(`${flag} given twice`);
    let v: string | undefined;
    if (flag !== arg) v = arg.slice(eq + 1);
    else {
      v = rest[++i];
      if (v === undefined || (v.startsWith("--") && v.length > 2))
        throw new CliArgError(`${flag}: missing value`);
    }
    values.set(flag, spec.check ? spec.check(v, flag) : v);
  }
  for (const r of cmd.required) if (!values.has(r)) throw new CliArgError(`${name}: ${r} is required`);
  if (values.has("--since") && values.has("--start"))
    throw new CliArgError("--since and --start both set the start: give one");

  const base = values.get("--url") ?? DEFAULT_URL;
  let parsedBase: URL;
  try {
    parsedBase = new URL(base);
  } catch {
    throw new CliArgError(`--url: expected http://host:port, got "${base}"`);
  }
  if (parsedBase.protocol !== "http:" && parsedBase.protocol !== "https:")
    throw new CliArgError(`--url: expected an http or https URL, got "${base}"`);

  const params = new URLSearchParams();
  let path = cmd.path;
  for (const [flag, v] of values) {
    const spec = cmd.flags[flag] ?? COMMON[flag]!;
    if (flag === "--since") params.set("start", String(nowMs - parseDurationMs(v)));
    else if (path.includes(":symbol") && flag === "--symbol") path = path.replace(":symbol", v);
    else if (spec.param) params.set(spec.param, v);
  }
  const qs = params.toString();
  const url = `${base.replace(/\/+$/, "")}${path}${qs ? `?${qs}` : ""}`;
  const key = values.get("--api-key") ?? env.K2_API_KEY;
  const headers: Record<string, string> = key ? { "x-api-key": key } : {};
  const timeoutMs = Number(values.get("--timeout-ms") ?? DEFAULT_TIMEOUT_MS);
  const limit = values.get("--limit");
  return {
    kind: "request",
    request: {
      url,
      headers,
      timeoutMs,
      pages: "--cursor" in cmd.flags,
      format: values.get("--format") ?? "json",
      pageRows: limit === undefined ? undefined : Number(limit),
      maxRows: Number(values.get("--max-rows") ?? DEFAULT_MAX_ROWS),
    },
  };
}
