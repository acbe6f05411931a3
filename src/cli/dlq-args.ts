/**
 * `k2 dlq ...` arguments → what to do (pure: no I/O). Same conventions as `k2 query` (args.ts):
 * `--flag value` or `--flag=value`, each flag once, bad input throws CliArgError with one line and
 * the runner exits 2. The data folder is the running K2's: --data-dir, else K2_DATA_DIR (or
 * K2_LOCAL_DIR when K2_DATA_DIR is an s3:// URL, because the DLQ always stays local).
 */
import { ALL_STATUSES, DecodeStatus, statusName } from "../decode/binance/index.ts";
import { timeValueUs } from "../http/routes/v1/values.ts";
import { CliArgError, cliCheck } from "./args.ts";

export const DEFAULT_DATA_DIR = "./data";

export type DlqArgs =
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "stats"; readonly dataDir: string; readonly json: boolean }
  | {
      readonly kind: "export";
      readonly dataDir: string;
      readonly reason?: string;
      readonly sinceUs?: number;
      readonly limit?: number;
    }
  | {
      readonly kind: "replay";
      readonly dataDir: string;
      readonly symbols?: readonly string[];
      readonly out?: string;
      readonly json: boolean;
    };

/** Reasons an entry can carry: every decode status except ok. */
export const DLQ_REASONS: readonly string[] = ALL_STATUSES.filter((s) => s !== DecodeStatus.OK).map((s) =>
  statusName(s),
);

const COMMANDS = {
  stats: {
    flags: ["--data-dir", "--json"],
    usage: "counts by reason and source, first/last receive time, files and bytes",
  },
  export: {
    flags: ["--data-dir", "--reason", "--since", "--limit"],
    usage: "the entries as NDJSON on stdout, frames byte-exact as stored (for jq)",
  },
  replay: {
    flags: ["--data-dir", "--symbols", "--out", "--json"],
    usage: "re-decode every frame with the current decoder; which now decode, which ids are stored",
  },
} as const;
type CommandName = keyof typeof COMMANDS;
/** Flags that take no value. */
const SWITCHES = new Set(["--json"]);

export const DLQ_USAGE = "usage: k2 dlq stats|export|replay [flags] (k2 dlq --help)";

export const DLQ_HELP = `k2 dlq <command> [flags] — inspect and replay the dead-letter queue (<data dir>/dlq) offline

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(7)} ${c.usage}`)
  .join("\n")}

flags:
  --data-dir DIR   K2's data folder (default K2_DATA_DIR, or K2_LOCAL_DIR for s3://, else ${DEFAULT_DATA_DIR})
  --json           stats, replay: JSON instead of a table
  --reason NAME    export: only this reason (${DLQ_REASONS.join("|")})
  --since T        export: received at or after T (ISO-8601, UTC without a zone; YYYY-MM-DD; or epoch ms)
  --limit N        export: at most N entries
  --symbols LIST   replay: symbols the decoder knows (default: those found in the frames)
  --out FILE       replay: write the frames that now decode and whose ids no Parquet file holds
                   (DLQ line format); moved into <data dir>/replay-in/, K2 adopts it at its next
                   start through the WAL, exactly once

examples:
  bun run k2 dlq stats --data-dir ./data
  bun run k2 dlq export --reason truncated --since 2024-01-01 | jq -r .frame
  bun run k2 dlq replay --symbols BTCUSDT,ETHUSDT --out /tmp/recovered.ndjson

exit codes: 0 ok, 1 no dead-letter folder or files (or unreadable), 2 bad arguments`;

const positiveInt = (v: string, flag: string): number => {
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1)
    throw new CliArgError(`${flag}: expected an integer 1..999999999, got "${v}"`);
  return Number(v);
};

/** A time as the API takes it (src/http/routes/v1/values.ts: calendar-checked, UTC without a zone) → µs. */
export function parseSinceUs(v: string, flag = "--since"): number {
  return cliCheck(timeValueUs)(v, flag);
}

function parseSymbols(v: string, flag: string): string[] {
  const out = v.split(",").map((s) => s.trim().toUpperCase());
  for (const s of out)
    if (!/^[A-Z0-9]{2,20}$/.test(s))
      throw new CliArgError(`${flag}: expected comma-separated symbols like BTCUSDT,ETHUSDT, got "${v}"`);
  return out;
}

/** The data folder when --data-dir is absent (see the module comment). */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  const d = env.K2_DATA_DIR?.trim();
  if (d?.startsWith("s3://")) return env.K2_LOCAL_DIR?.trim() || DEFAULT_DATA_DIR;
  return d || DEFAULT_DATA_DIR;
}

/** argv after `dlq` (e.g. ["export", "--reason", "truncated"]) → the command to run. */
export function parseDlqArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): DlqArgs {
  const [name, ...rest] = argv;
  const names = Object.keys(COMMANDS).join(", ");
  if (name === undefined) throw new CliArgError(`missing command: one of ${names}`);
  if (name === "--help" || name === "-h" || name === "help") return { kind: "help", text: DLQ_HELP };
  if (!Object.hasOwn(COMMANDS, name))
    throw new CliArgError(`unknown command "${name}": expected one of ${names}`);
  const cmd = COMMANDS[name as CommandName];
  if (rest.includes("--help") || rest.includes("-h")) return { kind: "help", text: DLQ_HELP };

  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (!(cmd.flags as readonly string[]).includes(flag))
      throw new CliArgError(
        arg.startsWith("-")
          ? `unknown flag ${flag} for "${name}" (see k2 dlq --help)`
          : `unexpected argument "${arg}" (flags take the form --name value)`,
      );
    if (values.has(flag)) throw new CliArgError(`${flag} given twice`);
    let v: string | undefined;
    if (SWITCHES.has(flag)) {
      if (flag !== arg) throw new CliArgError(`${flag} takes no value`);
      v = "";
    } else if (flag !== arg) v = arg.slice(eq + 1);
    else {
      v = rest[++i];
      if (v === undefined || (v.startsWith("--") && v.length > 2))
        throw new CliArgError(`${flag}: missing value`);
    }
    if (!SWITCHES.has(flag) && v.trim() === "") throw new CliArgError(`${flag}: empty value`);
    values.set(flag, v);
  }

  const dataDir = values.get("--data-dir") ?? defaultDataDir(env);
  const json = values.has("--json");
  if (name === "stats") return { kind: "stats", dataDir, json };
  if (name === "export") {
    const reason = values.get("--reason");
    if (reason !== undefined && !DLQ_REASONS.includes(reason))
      throw new CliArgError(`--reason: expected one of ${DLQ_REASONS.join("|")}, got "${reason}"`);
    const since = values.get("--since");
    const limit = values.get("--limit");
    return {
      kind: "export",
      dataDir,
      ...(reason !== undefined ? { reason } : {}),
      ...(since !== undefined ? { sinceUs: parseSinceUs(since) } : {}),
      ...(limit !== undefined ? { limit: positiveInt(limit, "--limit") } : {}),
    };
  }
  const symbols = values.get("--symbols");
  const out = values.get("--out");
  return {
    kind: "replay",
    dataDir,
    json,
    ...(symbols !== undefined ? { symbols: parseSymbols(symbols, "--symbols") } : {}),
    ...(out !== undefined ? { out } : {}),
  };
}
