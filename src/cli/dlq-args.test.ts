import { describe, expect, test } from "bun:test";
import { CliArgError } from "./args.ts";
import { DLQ_REASONS, defaultDataDir, parseDlqArgs, parseSinceUs } from "./dlq-args.ts";

const bad = (argv: string[]) => {
  try {
    parseDlqArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CliArgError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(" ")}`);
};

describe("parseDlqArgs", () => {
  test("each command with its flags; --flag=value works; --json is a switch", () => {
    expect(parseDlqArgs(["stats", "--data-dir", "/d", "--json"])).toEqual({
      kind: "stats",
      dataDir: "/d",
      json: true,
    });
    expect(
      parseDlqArgs([
        "export",
        "--reason=truncated",
        "--since",
        "2024-01-01",
        "--limit",
        "5",
        "--data-dir=/d",
      ]),
    ).toEqual({
      kind: "export",
      dataDir: "/d",
      reason: "truncated",
      sinceUs: 1_704_067_200_000_000,
      limit: 5,
    });
    expect(parseDlqArgs(["replay", "--symbols", "btcusdt, ETHUSDT", "--out", "r.ndjson"])).toEqual({
      kind: "replay",
      dataDir: "./data",
      json: false,
      symbols: ["BTCUSDT", "ETHUSDT"],
      out: "r.ndjson",
    });
  });

  test("the data folder: flag, else K2_DATA_DIR, else K2_LOCAL_DIR when the data lives in S3", () => {
    expect(parseDlqArgs(["stats"], { K2_DATA_DIR: "/srv/k2" })).toMatchObject({ dataDir: "/srv/k2" });
    expect(parseDlqArgs(["stats", "--data-dir", "/x"], { K2_DATA_DIR: "/srv/k2" })).toMatchObject({
      dataDir: "/x",
    });
    expect(defaultDataDir({ K2_DATA_DIR: "s3://b/p", K2_LOCAL_DIR: "/var/k2" })).toBe("/var/k2");
    expect(defaultDataDir({ K2_DATA_DIR: "s3://b/p" })).toBe("./data");
    expect(defaultDataDir({})).toBe("./data");
  });

  test("--since: epoch ms, a UTC date, or ISO with a zone", () => {
    expect(parseSinceUs("1700000000123")).toBe(1_700_000_000_123_000);
    expect(parseSinceUs("2024-01-01T01:00:00+01:00")).toBe(1_704_067_200_000_000);
    expect(parseSinceUs("2024-01-01T00:00:00.5Z")).toBe(1_704_067_200_500_000);
    // Without a zone: UTC, as the API reads it (not the machine's local time).
    expect(parseSinceUs("2024-01-01T12:00:00")).toBe(Date.UTC(2024, 0, 1, 12) * 1000);
  });

  test("--since: checked against the calendar like the API (issue 16, defect 2), seconds refused", () => {
    expect(() => parseSinceUs("2024-02-30T00:00:00Z")).toThrow(
      '--since: "2024-02-30T00:00:00Z" is not a calendar date (February 2024 has 29 days)',
    );
    expect(() => parseSinceUs("1700000000")).toThrow("--since: 1700000000 looks like epoch seconds");
  });

  test("help", () => {
    for (const argv of [["--help"], ["help"], ["export", "-h"]]) {
      const r = parseDlqArgs(argv);
      expect(r.kind === "help" && r.text.includes("k2 dlq <command>")).toBe(true);
    }
  });

  test("bad arguments: one line naming what was wrong and what was expected", () => {
    const cases: [string[], RegExp][] = [
      [[], /missing command: one of stats, export, replay/],
      [["stat"], /unknown command "stat": expected one of stats, export, replay/],
      [["toString"], /unknown command "toString"/],
      [["stats", "--reason", "truncated"], /unknown flag --reason for "stats"/],
      [["stats", "--json=yes"], /--json takes no value/],
      [["stats", "extra"], /unexpected argument "extra"/],
      [["stats", "--data-dir"], /--data-dir: missing value/],
      [["stats", "--data-dir="], /--data-dir: empty value/],
      [["export", "--limit", "0"], /--limit: expected an integer 1\.\.999999999, got "0"/],
      [["export", "--limit", "1", "--limit", "2"], /--limit given twice/],
      [["export", "--reason", "ok"], /--reason: expected one of control\|/],
      [["export", "--reason", "oops"], /--reason: expected one of .*truncated.*, got "oops"/],
      [["export", "--since", "2024-01-01T12:00:00+25:00"], /--since: .* has no such UTC offset/],
      [["export", "--since", "yesterday"], /--since/],
      [["export", "--since", "2024-13-45"], /--since/],
      [["replay", "--symbols", "BTC-USDT"], /--symbols: expected comma-separated symbols/],
      [["replay", "--out", "--json"], /--out: missing value/],
    ];
    for (const [argv, re] of cases) {
      const msg = bad(argv);
      expect(msg).toMatch(re);
      expect(msg).not.toContain("\n");
    }
    expect(DLQ_REASONS).not.toContain("ok");
    expect(DLQ_REASONS).toContain("bad_utf8");
  });
});
