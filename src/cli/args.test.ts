import { describe, expect, test } from "bun:test";
import { CliArgError, FORMATS, INTERVALS, parseDurationMs, parseQueryArgs, QUERY_COMMANDS } from "./args.ts";

const NOW = Date.UTC(2024, 0, 2, 12);
const req = (argv: string[], env: Record<string, string> = {}) => {
  const r = parseQueryArgs(argv, env, NOW);
  if (r.kind !== "request") throw new Error("expected a request");
  return r.request;
};
const bad = (argv: string[]) => {
  try {
    parseQueryArgs(argv, {}, NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(CliArgError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(" ")}`);
};

describe("parseQueryArgs", () => {
  test("trades --since 1h --format csv → start = now - 1 h, default URL", () => {
    const r = req(["trades", "--symbol", "BTCUSDT", "--since", "1h", "--format", "csv"]);
    expect(r.url).toBe(`http://127.0.0.1:8000/v1/trades?symbol=BTCUSDT&start=${NOW - 3_600_000}&format=csv`);
    expect(r.headers).toEqual({});
    expect(r.timeoutMs).toBe(30_000);
  });

  test("every command maps to its route; --flag=value works; symbols are upper-cased", () => {
    const urls = {
      trades: req(["trades", "--symbol=btcusdt", "--order", "desc", "--limit", "5"]).url,
      agg: req(["agg-trades", "--symbol", "ETHUSDT", "--start", "2024-01-01", "--end", "1704153600000"]).url,
      quotes: req(["quotes", "--symbol", "ETHUSDT", "--cursor", "djF8YWJj"]).url,
      recent: req(["recent", "--symbol", "BTCUSDT", "--minutes", "5"]).url,
      ohlcv: req(["ohlcv", "--symbol", "BTCUSDT", "--interval", "1m", "--fill", "previous", "--limit", "10"])
        .url,
      summary: req(["summary", "--symbol", "BTCUSDT", "--date", "2024-01-01", "--format", "ndjson"]).url,
      symbols: req(["symbols", "--url", "http://localhost:9/"]).url,
      gaps: req(["gaps", "--symbol", "BTCUSDT"]).url,
    };
    const base = "http://127.0.0.1:8000/v1";
    expect(urls).toEqual({
      trades: `${base}/trades?symbol=BTCUSDT&order=desc&limit=5`,
      agg: `${base}/agg-trades?symbol=ETHUSDT&start=2024-01-01&end=1704153600000`,
      quotes: `${base}/quotes?symbol=ETHUSDT&cursor=djF8YWJj`,
      recent: `${base}/trades/recent?symbol=BTCUSDT&minutes=5`,
      ohlcv: `${base}/ohlcv?symbol=BTCUSDT&interval=1m&fill=previous&limit=10`,
      summary: `${base}/summary/BTCUSDT?date=2024-01-01&format=ndjson`,
      symbols: "http://localhost:9/v1/symbols",
      gaps: `${base}/gaps?symbol=BTCUSDT`,
    });
    expect([...QUERY_COMMANDS].sort()).toEqual([
      "agg-trades",
      "gaps",
      "ohlcv",
      "quotes",
      "recent",
      "summary",
      "symbols",
      "trades",
    ]);
  });

  test("API key from --api-key, else K2_API_KEY; --timeout-ms", () => {
    expect(req(["symbols", "--api-key", "k".repeat(16)]).headers).toEqual({ "x-api-key": "k".repeat(16) });
    expect(req(["symbols"], { K2_API_KEY: "from-env-0123456789" }).headers).toEqual({
      "x-api-key": "from-env-0123456789",
    });
    expect(req(["symbols", "--timeout-ms", "1500"]).timeoutMs).toBe(1500);
  });

  test("help for the command list and per command", () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const r = parseQueryArgs(argv);
      expect(r.kind === "help" && r.text.includes("k2 query <command>")).toBe(true);
    }
    const r = parseQueryArgs(["ohlcv", "--help"]);
    expect(r.kind === "help" && r.text.includes("--interval (required)")).toBe(true);
  });

  test("bad arguments: one line naming what was wrong and what was expected", () => {
    const cases: [string[], RegExp][] = [
      [[], /missing command/],
      [["trade"], /unknown command "trade": expected one of trades/],
      [["trades"], /--symbol is required/],
      [["ohlcv", "--symbol", "BTCUSDT"], /--interval is required/],
      [["ohlcv", "--symbol", "BTCUSDT", "--interval", "2m"], /--interval: expected one of 1s, 1m, 5m/],
      [
        ["trades", "--symbol", "BTC-USDT"],
        /--symbol: expected a symbol of 2 to 20 letters and digits such as BTCUSDT/,
      ],
      [["trades", "--symbol", "BTCUSDT", "--limit", "0"], /--limit: expected a whole number from 1 to 10000/],
      [["trades", "--symbol", "BTCUSDT", "--limit", "10001"], /--limit/],
      [["trades", "--symbol", "BTCUSDT", "--order", "up"], /--order: expected one of asc, desc, got "up"/],
      [["trades", "--symbol", "BTCUSDT", "--format", "xml"], /--format: expected one of json, csv/],
      [["trades", "--symbol", "BTCUSDT", "--since", "1w"], /--since: expected a duration/],
      [["trades", "--symbol", "BTCUSDT", "--since", "0h"], /--since/],
      [
        ["trades", "--symbol", "BTCUSDT", "--start", "yesterday"],
        /--start: expected a time such as 2024-01-02/,
      ],
      [["trades", "--symbol", "BTCUSDT", "--since", "1h", "--start", "2024-01-01"], /give one/],
      [["trades", "--symbol", "BTCUSDT", "--limit"], /--limit: missing value/],
      [["trades", "--symbol", "--limit", "5"], /--symbol: missing value/],
      [["trades", "--symbol", "BTCUSDT", "--symbol", "ETHUSDT"], /given twice/],
      [["trades", "--symbol", "BTCUSDT", "--interval", "1m"], /unknown flag --interval for "trades"/],
      [["trades", "BTCUSDT"], /unexpected argument "BTCUSDT"/],
      [["symbols", "--url", "localhost:8000"], /--url: expected an http or https URL/],
      [["symbols", "--url", "not a url"], /--url: expected http/],
      [
        ["summary", "--symbol", "BTCUSDT", "--date", "2024-02-30"],
        /--date: "2024-02-30" is not a calendar date \(February 2024 has 29 days\)/,
      ],
      [
        ["trades", "--symbol", "BTCUSDT", "--start", "1704067200"],
        /--start: 1704067200 looks like epoch seconds/,
      ],
      [
        ["summary", "--symbol", "BTCUSDT", "--date", "2024-1-1"],
        /--date: expected a UTC date such as 2024-01-31/,
      ],
      [
        ["recent", "--symbol", "BTCUSDT", "--minutes", "61"],
        /--minutes: expected a whole number from 1 to 60/,
      ],
    ];
    for (const [argv, re] of cases) {
      const msg = bad(argv);
      expect(msg).toMatch(re);
      expect(msg).not.toContain("\n");
    }
  });

  test("the CLI's interval and format lists are the server's", async () => {
    const { INTERVALS: serverIntervals } = await import("../query/ohlcv.ts");
    const { FORMATS: serverFormats } = await import("../http/routes/v1/format.ts");
    expect([...INTERVALS]).toEqual([...serverIntervals]);
    expect([...FORMATS]).toEqual([...serverFormats]);
  });

  test("durations", () => {
    expect([parseDurationMs("90s"), parseDurationMs("15m"), parseDurationMs("2d")]).toEqual([
      90_000, 900_000, 172_800_000,
    ]);
  });
});
