import { expect, test } from "bun:test";
import { CliArgError } from "./args.ts";
import { parseBackfillArgs } from "./backfill-args.ts";

const DAY = ["--symbols", "BTCUSDT", "--from", "2025-01-01", "--to", "2025-01-01"];

test("--source rest: the REST root from K2_BINANCE_REST_URL, half of K2_REST_WEIGHT_BUDGET by default", () => {
  const a = parseBackfillArgs([...DAY, "--source", "rest"], {
    K2_BINANCE_REST_URL: "http://127.0.0.1:9/",
    K2_REST_WEIGHT_BUDGET: "1000",
  });
  if (a.kind !== "run") throw new Error("expected a run");
  expect([a.source, a.restUrl, a.restWeightPerMin]).toEqual(["rest", "http://127.0.0.1:9", 500]);
  const b = parseBackfillArgs([
    ...DAY,
    "--source=rest",
    "--rest-url",
    "https://x.test",
    "--rest-weight",
    "6000",
  ]);
  if (b.kind !== "run") throw new Error("expected a run");
  expect([b.restUrl, b.restWeightPerMin]).toEqual(["https://x.test", 6000]);
  const c = parseBackfillArgs(DAY);
  if (c.kind !== "run") throw new Error("expected a run");
  expect([c.source, c.restWeightPerMin, c.openDayMarginMs]).toEqual(["archive", 3000, 60_000]);
  // An open day stays behind what a running K2 may still hold unflushed.
  const d = parseBackfillArgs(DAY, { K2_FLUSH_INTERVAL_MS: "300000" });
  if (d.kind !== "run") throw new Error("expected a run");
  expect(d.openDayMarginMs).toBe(600_000);
});

test("--source rest: bad REST flags get one sentence", () => {
  const bad: [string[], Record<string, string>, RegExp][] = [
    [
      ["--rest-url", "ftp://x"],
      {},
      /^--rest-url: expected a URL with scheme http or https, got "ftp:\/\/x"$/,
    ],
    [[], { K2_BINANCE_REST_URL: "nope" }, /^K2_BINANCE_REST_URL: expected a URL/],
    [["--rest-weight", "6001"], {}, /^--rest-weight: expected an integer 1\.\.6000/],
    [["--rest-weight", "1.5"], {}, /^--rest-weight: expected an integer 1\.\.6000/],
    [[], { K2_REST_WEIGHT_BUDGET: "0" }, /^K2_REST_WEIGHT_BUDGET: expected /],
  ];
  for (const [argv, env, want] of bad) {
    let err: unknown;
    try {
      parseBackfillArgs([...DAY, "--source", "rest", ...argv], env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliArgError);
    expect((err as Error).message).toMatch(want);
  }
});

test("--period: auto by default, daily or monthly; bad values and --source rest get one sentence", () => {
  const a = parseBackfillArgs(DAY);
  if (a.kind !== "run") throw new Error("expected a run");
  expect(a.period).toBe("auto");
  for (const p of ["daily", "monthly"] as const) {
    const b = parseBackfillArgs([...DAY, "--period", p]);
    if (b.kind !== "run") throw new Error("expected a run");
    expect(b.period).toBe(p);
  }
  expect(() => parseBackfillArgs([...DAY, "--period", "weekly"])).toThrow(
    /^--period: expected auto, daily, monthly, got "weekly"$/,
  );
  expect(() => parseBackfillArgs([...DAY, "--source", "rest", "--period", "daily"])).toThrow(
    /^--period: only for --source archive/,
  );
});
