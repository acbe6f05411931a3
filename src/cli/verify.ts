/**
 * `k2 verify --date YYYY-MM-DD [--symbols A,B] [--table trades|agg_trades] [--data-dir DIR]
 * [--archive-url URL] [--json]`: a completeness certificate per (table, symbol) of the day,
 * computed offline from the data folder (the Parquet files as they are on disk, the gap journal,
 * the kline verdicts; a scale-out writers' folder has no gap journal: certificate.ts says how
 * holes are judged then) and Binance's public archive (src/completeness/certificate.ts). Safe while
 * K2 runs (read-only, except the certificate manifests it writes).
 *
 * Exit 0 when no certificate is incomplete (complete or unverified), 1 when any is incomplete or
 * could not be made (one line says why), 2 with one line for bad arguments.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  CERT_TABLES,
  type Certificate,
  type CertTable,
  certify,
  MAX_SPOT_PAGES,
} from "../completeness/index.ts";
import { KEYS } from "../config/keys.ts";
import { SOURCE_MARKER_FILE } from "../config/source-marker.ts";
import { readJournal } from "../ingest/gap-journal.ts";
import { GAP_LEDGER_CAPACITY } from "../ingest/gap-ledger.ts";
import { SYMBOL_RE } from "../model/symbols.ts";
import { DEFAULT_DUCK_OPTIONS, Duck } from "../query/duck.ts";
import { dayOfDate } from "../sink/parquet/layout.ts";
import { BinanceRest } from "../source/binance/rest.ts";
import { DEFAULT_DATA_DIR } from "./dlq-args.ts";
import type { CliIo } from "./query.ts";

export const VERIFY_HELP = `k2 verify --date YYYY-MM-DD [flags] — completeness certificates for one UTC day

flags:
  --date D          the UTC day (required)
  --symbols LIST    symbols to certify (default: every symbol stored for the day)
  --table T         trades (default) or agg_trades
  --data-dir DIR    K2's data folder (default K2_DATA_DIR, else ${DEFAULT_DATA_DIR})
  --archive-url U   Binance public archive root (default K2_ARCHIVE_URL, else ${KEYS.archiveUrl.default})
  --spot-checks N   also compare N REST pages (100 rows each, at random ids; 0-10, default 0)
  --rest-url U      Binance REST root for spot checks (default K2_BINANCE_REST_URL, else ${KEYS.binanceRestUrl.default})
  --json            the certificates as JSON lines instead of a summary

exit codes: 0 nothing incomplete, 1 a certificate is incomplete or could not be made, 2 bad arguments`;

/** The server's defaults (config/keys.ts owns them), so `k2 verify` and K2 look at the same hosts. */
const DEFAULT_ARCHIVE_URL = KEYS.archiveUrl.default;
const DEFAULT_REST_URL = KEYS.binanceRestUrl.default;
/** REST weight per minute `k2 verify` may use: a sixth of Binance's 6000, leaving the rest to a running K2. */
const VERIFY_REST_WEIGHT_PER_MIN = 1000;
const VALUE_FLAGS = new Set([
  "--date",
  "--symbols",
  "--table",
  "--data-dir",
  "--archive-url",
  "--spot-checks",
  "--rest-url",
]);

interface VerifyArgs {
  date: string;
  symbols: string[] | null;
  table: CertTable;
  dataDir: string;
  archiveUrl: string;
  spotPages: number;
  restUrl: string;
  json: boolean;
}

class VerifyArgError extends Error {}

function parseArgs(argv: readonly string[], env: CliIo["env"]): VerifyArgs {
  const v = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (VALUE_FLAGS.has(a)) {
      const x = argv[++i];
      if (x === undefined) throw new VerifyArgError(`${a} needs a value`);
      v.set(a, x);
    } else throw new VerifyArgError(`unknown argument '${a}'`);
  }
  const date = v.get("--date");
  if (date === undefined) throw new VerifyArgError("--date YYYY-MM-DD is required");
  if (dayOfDate(date) === null)
    throw new VerifyArgError(`--date '${date}': expected a real UTC date YYYY-MM-DD`);
  const table = (v.get("--table") ?? "trades") as CertTable;
  if (!CERT_TABLES.includes(table))
    throw new VerifyArgError(`--table '${table}': expected ${CERT_TABLES.join(" or ")}`);
  let symbols: string[] | null = null;
  const s = v.get("--symbols");
  if (s !== undefined) {
    symbols = s.split(",").map((x) => x.trim().toUpperCase());
    const bad = symbols.find((x) => !SYMBOL_RE.test(x));
    if (bad !== undefined) throw new VerifyArgError(`--symbols: '${bad}' is not a Binance symbol`);
  }
  const archiveUrl = (v.get("--archive-url") ?? env.K2_ARCHIVE_URL ?? DEFAULT_ARCHIVE_URL).replace(
    /\/+$/,
    "",
  );
  if (!/^https?:\/\//.test(archiveUrl))
    throw new VerifyArgError(`--archive-url '${archiveUrl}': expected http(s)://`);
  const dataDir = resolve(v.get("--data-dir") ?? env.K2_DATA_DIR ?? DEFAULT_DATA_DIR);
  const spotText = v.get("--spot-checks") ?? "0";
  const spotPages = Number(spotText);
  if (!/^\d+$/.test(spotText) || spotPages > MAX_SPOT_PAGES)
    throw new VerifyArgError(
      `--spot-checks '${spotText}': expected a whole number from 0 to ${MAX_SPOT_PAGES}`,
    );
  const restUrl = (v.get("--rest-url") ?? env.K2_BINANCE_REST_URL ?? DEFAULT_REST_URL).replace(/\/+$/, "");
  if (!/^https?:\/\//.test(restUrl)) throw new VerifyArgError(`--rest-url '${restUrl}': expected http(s)://`);
  return { date, symbols, table, dataDir, archiveUrl, spotPages, restUrl, json };
}

/** Symbols with a partition of `table` on `date`. */
function storedSymbols(dataDir: string, table: CertTable, date: string): string[] {
  const dir = join(dataDir, table, `date=${date}`);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith("symbol="))
    .map((n) => n.slice("symbol=".length))
    .sort();
}

function summary(c: Certificate): string {
  const s = c.stored;
  const head = `${c.table} ${c.symbol} ${c.date}: ${c.verdict.toUpperCase()} — ${s.rows} rows, ids ${s.first_id ?? "-"}..${s.last_id ?? "-"}, sha256 ${s.sha256}; archive ${c.archive.status}`;
  return [head, ...c.reasons.map((r) => `  - ${r}`)].join("\n");
}

export async function runVerifyCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    await io.write(new TextEncoder().encode(`${VERIFY_HELP}\n`));
    return 0;
  }
  let args: VerifyArgs;
  try {
    args = parseArgs(argv, io.env);
  } catch (e) {
    if (!(e instanceof VerifyArgError)) throw e;
    io.error(`k2 verify: ${e.message} (k2 verify --help)`);
    return 2;
  }
  if (!existsSync(args.dataDir)) {
    io.error(`k2 verify: no data folder ${args.dataDir} (pass --data-dir or set K2_DATA_DIR)`);
    return 2;
  }
  const symbols = args.symbols ?? storedSymbols(args.dataDir, args.table, args.date);
  if (symbols.length === 0) {
    io.error(
      `k2 verify: nothing stored for ${args.table} on ${args.date} in ${args.dataDir}; name --symbols to certify an empty day`,
    );
    return 1;
  }
  // A folder K2 ingests into (a single process: its market marker or gap journal) has a ledger;
  // a scale-out writers' folder has none (the recorders keep theirs): holes judged without one.
  const ingested =
    existsSync(join(args.dataDir, SOURCE_MARKER_FILE)) || existsSync(join(args.dataDir, "gaps"));
  const gaps = ingested ? readJournal(join(args.dataDir, "gaps"), GAP_LEDGER_CAPACITY).entries : undefined;
  const rest =
    args.spotPages > 0
      ? new BinanceRest({ baseUrl: args.restUrl, weightBudgetPerMin: VERIFY_REST_WEIGHT_PER_MIN })
      : undefined;
  const duck = await Duck.open({ ...DEFAULT_DUCK_OPTIONS, connections: 1, maxQueued: 4 });
  let incomplete = 0;
  try {
    for (const symbol of symbols) {
      let c: Certificate;
      try {
        c = await certify(
          {
            dataDir: args.dataDir,
            duck,
            archiveRoot: args.archiveUrl,
            ...(gaps ? { gaps: () => gaps } : {}),
            ...(rest ? { rest } : {}),
          },
          args.table,
          symbol,
          args.date,
          args.spotPages,
        );
      } catch (e) {
        // A day that cannot be read is not known to be complete: say why and count it.
        io.error(`k2 verify: ${args.table} ${symbol} ${args.date}: ${(e as Error).message}`);
        incomplete++;
        continue;
      }
      if (c.verdict === "incomplete") incomplete++;
      await io.write(new TextEncoder().encode(`${args.json ? JSON.stringify(c) : summary(c)}\n`));
    }
  } finally {
    duck.close();
  }
  return incomplete > 0 ? 1 : 0;
}

export async function verifyMain(argv: readonly string[], env: CliIo["env"]): Promise<number> {
  return runVerifyCli(argv, {
    env,
    write: (b) => {
      process.stdout.write(b);
    },
    error: (line) => console.error(line),
  });
}
