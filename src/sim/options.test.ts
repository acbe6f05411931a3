import { describe, expect, test } from "bun:test";
import { CLI_DEFAULT_PORT, parseSimArgs } from "./args.ts";
import { DEFAULT_SIM_OPTIONS, resolveSimOptions, SimOptionError } from "./options.ts";

describe("parseSimArgs", () => {
  test("the archive's history: --archive-days and a fractional --archive-rate; out of range refused", () => {
    const { options } = parseSimArgs(["--archive-days", "3", "--archive-rate=0.05"]);
    expect([options.archiveDays, options.archiveRatePerSec]).toEqual([3, 0.05]);
    expect(DEFAULT_SIM_OPTIONS.archiveDays).toBe(0); // no archive unless asked
    expect(() => parseSimArgs(["--archive-days", "32"])).toThrow(
      /archiveDays=32: expected an integer in 0..31/,
    );
    expect(() => resolveSimOptions({ archiveRatePerSec: 0 })).toThrow(SimOptionError);
    expect(() => resolveSimOptions({ archiveRatePerSec: 500 })).toThrow(/archiveRatePerSec=500/);
    // Generated at start and held in memory: bounded in all.
    expect(() => resolveSimOptions({ archiveDays: 6, archiveRatePerSec: 10, symbols: ["BTCUSDT"] })).toThrow(
      /archive history of 5184000 trades .* exceeds 5000000/,
    );
    expect(
      resolveSimOptions({ archiveDays: 2, archiveRatePerSec: 10, symbols: ["BTCUSDT"] }).archiveDays,
    ).toBe(2);
  });

  test("book mode: --books and its bounds, off by default; depth faults as switches, skipDepthUpdates an action", () => {
    expect(DEFAULT_SIM_OPTIONS.books).toBe(false);
    const { options } = parseSimArgs([
      "--books",
      "--book-max-levels=100",
      "--book-orders-per-trade",
      "3",
      "--book-truth-ms=5000",
      "--faults",
      '{"depth":{"snapshotStaleEvents":2}}',
    ]);
    expect([options.books, options.bookMaxLevels, options.bookOrdersPerTrade, options.bookTruthMs]).toEqual([
      true,
      100,
      3,
      5000,
    ]);
    expect(options.faults.depth).toEqual({ snapshotStatus: 0, snapshotDelayMs: 0, snapshotStaleEvents: 2 });
    expect(() => parseSimArgs(["--book-max-levels", "5"])).toThrow(
      /bookMaxLevels=5: expected an integer in 10..100000/,
    );
    expect(() => parseSimArgs(["--book-orders-per-trade", "65"])).toThrow(/bookOrdersPerTrade=65/);
    expect(() => parseSimArgs(["--faults", '{"depth":{"snapshotStatus":500}}'])).toThrow(
      /depth.snapshotStatus: expected 0\|429\|418/,
    );
    expect(() => parseSimArgs(["--faults", '{"skipDepthUpdates":{"count":1}}'])).toThrow(/is an action/);
    expect(() => resolveSimOptions({ books: "yes" as never })).toThrow(/books=yes: expected a boolean/);
  });

  test("defaults: CLI port 9443, library defaults otherwise", () => {
    const { help, options } = parseSimArgs([]);
    expect(help).toBe(false);
    expect(options.port).toBe(CLI_DEFAULT_PORT);
    expect(options.symbols).toEqual(DEFAULT_SIM_OPTIONS.symbols);
    expect(options.pingIntervalMs).toBe(20_000);
    expect(options.pongTimeoutMs).toBe(60_000);
    expect(options.faults.maxLifetimeMs).toBe(86_400_000);
  });

  test("both flag forms, symbols upper-cased, faults JSON", () => {
    const { options } = parseSimArgs([
      "--port=0",
      "--host",
      "127.0.0.1",
      "--symbols",
      "btcusdt, pepeusdt",
      "--rate",
      "2.5",
      "--seed=42",
      "--start-id",
      "5000",
      "--ping-interval-ms=100",
      "--max-lifetime-ms",
      "500",
      "--faults",
      '{"garbageRatio":0.1,"rest":{"status":500}}',
      "--no-auto-symbols",
    ]);
    expect(options.port).toBe(0);
    expect(options.symbols).toEqual(["BTCUSDT", "PEPEUSDT"]);
    expect(options.ratePerSec).toBe(2.5);
    expect(options.seed).toBe(42);
    expect(options.startTradeId).toBe(5000);
    expect(options.pingIntervalMs).toBe(100);
    expect(options.autoCreateSymbols).toBe(false);
    expect(options.faults.maxLifetimeMs).toBe(500);
    expect(options.faults.garbageRatio).toBe(0.1);
    expect(options.faults.rest).toEqual({ status: 500, delayMs: 0 });
  });

  test("--help", () => {
    expect(parseSimArgs(["-h"]).help).toBe(true);
  });

  test.each([
    [["--bogus"], "unknown option"],
    [["--rate", "abc"], "not a number"],
    [["--rate", "0"], "ratePerSec"],
    [["--port", "70000"], "port"],
    [["--tick-ms", "1.5"], "tickMs"],
    [["--seed"], "missing value"],
    [["--symbols", "BTC-USDT"], "symbol"],
    [["--faults", "{nope"], "--faults"],
    [["--faults", '{"dropAll":"reset"}'], "action"],
    [["--faults", '{"garbageRatio":2}'], "garbageRatio"],
  ])("%p → SimOptionError mentioning %p", (argv, fragment) => {
    expect(() => parseSimArgs(argv)).toThrow(SimOptionError);
    expect(() => parseSimArgs(argv)).toThrow(fragment);
  });
});

test("resolveSimOptions freezes and dedupes symbols", () => {
  const o = resolveSimOptions({ symbols: ["BTCUSDT", "BTCUSDT"] });
  expect(o.symbols).toEqual(["BTCUSDT"]);
  expect(Object.isFrozen(o)).toBe(true);
  expect(() => resolveSimOptions({ startTimeMs: -1 })).toThrow("startTimeMs");
});

test("main.ts: bad option → one line on stderr, exit code 2; --help exits 0", async () => {
  const bad = Bun.spawn([process.execPath, "run", `${import.meta.dir}/main.ts`, "--port", "x"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, err] = await Promise.all([bad.exited, new Response(bad.stderr).text()]);
  expect(code).toBe(2);
  expect(err.trim().split("\n")).toEqual(["k2-sim: --port: 'x' is not a number"]);
  const help = Bun.spawn([process.execPath, "run", `${import.meta.dir}/main.ts`, "--help"], {
    stdout: "pipe",
  });
  const [hcode, out] = await Promise.all([help.exited, new Response(help.stdout).text()]);
  expect(hcode).toBe(0);
  expect(out).toContain("--ping-interval-ms");
});
