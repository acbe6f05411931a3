/**
 * argv → SimOptions for the standalone simulator (src/sim/main.ts). Pure: no env, no I/O.
 * Flags accept `--flag value` and `--flag=value`; anything unknown or out of range throws
 * SimOptionError with a one-line message.
 */
import type { FaultPatch } from "./faults.ts";
import { resolveSimOptions, SimOptionError, type SimOptions, type SimOptionsInput } from "./options.ts";

/** The CLI listens on Binance's stream port by default; the library defaults to an ephemeral port. */
export const CLI_DEFAULT_PORT = 9443;

type NumKey = {
  [K in keyof SimOptions]: SimOptions[K] extends number ? K : never;
}[keyof SimOptions];

const NUMERIC_FLAGS: Record<string, NumKey> = {
  "--port": "port",
  "--rate": "ratePerSec",
  "--seed": "seed",
  "--max-symbols": "maxSymbols",
  "--start-id": "startTradeId",
  "--start-agg-id": "startAggId",
  "--start-update-id": "startUpdateId",
  "--tick-ms": "tickMs",
  "--archive-days": "archiveDays",
  "--archive-rate": "archiveRatePerSec",
  "--max-trades-per-tick": "maxTradesPerTick",
  "--history": "historyLimit",
  "--ping-interval-ms": "pingIntervalMs",
  "--pong-timeout-ms": "pongTimeoutMs",
  "--max-msgs-per-sec": "maxIncomingPerSec",
  "--max-streams": "maxStreamsPerConnection",
  "--rest-weight-limit": "restWeightLimit",
  "--rest-window-ms": "restWeightWindowMs",
  "--rest-strikes": "restStrikesBeforeBan",
  "--rest-ban-ms": "restBanMs",
  "--backpressure-bytes": "backpressureLimitBytes",
  "--pace-bytes": "paceBytes",
  "--book-max-levels": "bookMaxLevels",
  "--book-orders-per-trade": "bookOrdersPerTrade",
  "--book-truth-ms": "bookTruthMs",
};

export const SIM_HELP = `Usage: bun run src/sim/main.ts [options]
Binance-compatible exchange simulator (WebSocket streams + REST + /admin) on one port.

  --host H                 listen address (default 127.0.0.1)
  --port N                 port, 0 = ephemeral (default ${CLI_DEFAULT_PORT})
  --symbols A,B            symbols generated from start (default BTCUSDT,ETHUSDT,BNBUSDT)
  --no-auto-symbols        do not create other symbols on first subscription
  --record-quote-ids       keep every bookTicker update id sent in the ground truth (tests)
  --max-symbols N          bound on symbols, configured + auto-created (default 256)
  --rate N                 trades per second per symbol (default 10; fractions allowed)
  --seed N                 PRNG seed (default 1)
  --books                  book mode: a real order book per symbol (limit orders, cancels,
                           marketable orders); trades fill against it, bookTicker is its top;
                           adds <s>@depth, <s>@depth@100ms, <s>@depth5|10|20[@100ms],
                           GET /api/v3/depth and GET /admin/book (default off: trade-only)
  --book-max-levels N      book mode: levels per side at most (default 5000)
  --book-orders-per-trade N  book mode: mean limit orders + cancels per marketable order (default 8)
  --book-truth-ms N        book mode: how far back /admin/book can rebuild the book (default 600000)
  --start-id N             first trade id (default 1000)
  --start-agg-id N         first aggregate trade id (default 100)
  --start-update-id N      first bookTicker update id (default 1000000)
  --start-time-ms N        fixed clock origin, epoch ms (default: wall clock)
  --archive-days N         whole UTC days of history before the start day, served under
                           /archive/ in Binance's public-archive layout (default 0 = none)
  --archive-rate N         trades per second per symbol in that history (default 0.5);
                           days × 86400 × rate × symbols is at most 5,000,000
  --tick-ms N              send timer period (default 20)
  --max-trades-per-tick N  per symbol per tick (default 20000)
  --history N              trades kept per symbol for REST (default 100000)
  --ping-interval-ms N     server ping period (default 20000)
  --pong-timeout-ms N      disconnect when a ping is unanswered this long (default 60000)
  --max-lifetime-ms N      per-connection lifetime (default 86400000 = 24 h)
  --max-msgs-per-sec N     incoming messages per second per connection (default 5)
  --max-streams N          streams per connection (default 1024)
  --rest-weight-limit N    REST weight per window (default 6000)
  --rest-window-ms N       REST weight window (default 60000)
  --rest-strikes N         requests tolerated during a 429 back-off before a 418 ban (default 2)
  --rest-ban-ms N          418 ban length (default 120000)
  --backpressure-bytes N   disconnect a client with this much unsent data (default 16777216)
  --pace-bytes N           skip generation ticks while a client has more than N bytes unsent, so
                           a max-rate market runs at its slowest reader's speed, lossless
                           (default 0 = off; benchmarks only)
  --faults JSON            initial fault switches, same JSON as POST /admin/faults switches
  -h, --help               this text
`;

export interface ParsedSimArgs {
  help: boolean;
  options: Readonly<SimOptions>;
}

export function parseSimArgs(argv: readonly string[]): ParsedSimArgs {
  const partial: SimOptionsInput = { port: CLI_DEFAULT_PORT };
  let faults: FaultPatch = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new SimOptionError(`${flag}: missing value`);
      return v;
    };
    const num = NUMERIC_FLAGS[flag];
    if (num) {
      const text = takeValue();
      const v = Number(text);
      if (text.trim() === "" || !Number.isFinite(v))
        throw new SimOptionError(`${flag}: '${text}' is not a number`);
      partial[num] = v;
      continue;
    }
    switch (flag) {
      case "-h":
      case "--help":
        help = true;
        break;
      case "--host":
        partial.host = takeValue();
        break;
      case "--symbols":
        partial.symbols = takeValue()
          .split(",")
          .map((s) => s.trim().toUpperCase())
          .filter((s) => s.length > 0);
        break;
      case "--no-auto-symbols":
        partial.autoCreateSymbols = false;
        break;
      case "--books":
        partial.books = true;
        break;
      case "--record-quote-ids":
        partial.recordQuoteIds = true;
        break;
      case "--start-time-ms": {
        const v = Number(takeValue());
        partial.startTimeMs = v;
        break;
      }
      case "--max-lifetime-ms": {
        const v = Number(takeValue());
        faults = { ...faults, maxLifetimeMs: v };
        break;
      }
      case "--faults": {
        try {
          faults = { ...faults, ...(JSON.parse(takeValue()) as FaultPatch) };
        } catch (e) {
          if (e instanceof SimOptionError) throw e;
          throw new SimOptionError("--faults: expected a JSON object");
        }
        break;
      }
      default:
        throw new SimOptionError(`unknown option '${arg}' (see --help)`);
    }
  }
  const actions = [
    "dropAll",
    "serverShutdown",
    "refuseForMs",
    "skipTradeIds",
    "loseTradeIds",
    "skipDepthUpdates",
  ];
  for (const a of actions)
    if (a in faults) throw new SimOptionError(`--faults: '${a}' is an action, not a switch`);
  partial.faults = faults;
  return { help, options: resolveSimOptions(partial) };
}
