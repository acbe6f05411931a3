import { expect, test } from "bun:test";
import { ArchiveError } from "../archive/index.ts";
import type { FileOutcome } from "./file.ts";
import { planJobs } from "./plan.ts";
import { fileLine, Progress } from "./progress.ts";

const job = planJobs(["BTCUSDT"], ["agg_trades"], "2024-12-31", "2024-12-31")[0]!;
const base = { job, rows: 0, written: 0, alreadyStored: 0, files: 0, ms: 1234 };

test("one stable line per file: landed, already landed, failed with the error's kind", () => {
  const landed: FileOutcome = {
    ...base,
    status: "landed",
    rows: 10,
    written: 7,
    alreadyStored: 3,
    files: 1,
    sha256: "ab".repeat(32),
  };
  expect(fileLine(landed)).toBe(
    "BTCUSDT agg_trades 2024-12-31: landed 10 rows (7 new, 3 already stored) in 1 file, 1.2 s, sha256 abababababab…",
  );
  expect(fileLine({ ...landed, files: 2 })).toContain(" in 2 files,");
  expect(fileLine({ ...base, status: "already_landed", sha256: "cd".repeat(32) })).toBe(
    "BTCUSDT agg_trades 2024-12-31: already landed (sha256 cdcdcdcdcdcd…), nothing to do",
  );
  const error = new ArchiveError("checksum_mismatch", "u: SHA-256 x differs");
  expect(fileLine({ ...base, status: "failed", error })).toBe(
    "BTCUSDT agg_trades 2024-12-31: FAILED checksum_mismatch, skipped, nothing written: u: SHA-256 x differs",
  );
  expect(fileLine({ ...base, status: "failed", error: new Error("disk") })).toContain("FAILED error,");
});

test("the progress bar: files done/total, rows/s and ETA, cleared before each file's line", () => {
  let screen = "";
  const p = new Progress(4, (s) => {
    screen += s;
  });
  p.rows(2_000_000);
  p.file(() => {
    screen += "LINE\n";
  });
  expect(screen).toContain("\r\x1b[2KLINE\n");
  const bar = screen.slice(screen.lastIndexOf("\r"));
  expect(bar).toMatch(/^\r\x1b\[2K\[######\.{18}\] 1\/4 files {2}\d+(\.\d+ M| k) rows\/s {2}ETA \d+ s$/);
  p.end();
  expect(screen.endsWith("\n")).toBe(true);
});

test("REST days under way give an ETA before the first day ends; the bar fills by days done", () => {
  let screen = "";
  const p = new Progress(
    4,
    (s) => {
      screen += s;
    },
    "days",
  );
  const day = {};
  p.draw(performance.now());
  expect(screen.slice(screen.lastIndexOf("\r"))).toMatch(/\] 0\/4 days {2}\d+ rows\/s {2}ETA \?$/);
  p.part(day, 0.5);
  p.draw(performance.now());
  expect(screen.slice(screen.lastIndexOf("\r"))).toMatch(
    /^\r\x1b\[2K\[\.{24}\] 0\/4 days {2}\d+ rows\/s {2}ETA \d+ s$/,
  );
  p.file(() => {}, day);
  expect(screen.slice(screen.lastIndexOf("\r"))).toMatch(/\[######\.{18}\] 1\/4 days /);
});

test("a REST day's line: complete, or open with the time it was read through; ids missing at the source", () => {
  const rest: FileOutcome = {
    ...base,
    status: "landed",
    source: "rest",
    rows: 10,
    written: 7,
    alreadyStored: 3,
    files: 1,
    complete: true,
    throughUs: Date.UTC(2024, 11, 31, 23, 59, 59, 250) * 1000,
  };
  expect(fileLine(rest)).toBe(
    "BTCUSDT agg_trades 2024-12-31: landed 10 rows (7 new, 3 already stored) in 1 file from REST, day complete, 1.2 s",
  );
  expect(fileLine({ ...rest, complete: false, missingAtSource: 2 })).toBe(
    "BTCUSDT agg_trades 2024-12-31: landed 10 rows (7 new, 3 already stored) in 1 file from REST, day still open at the source, read through 23:59:59.250 UTC: run again after it ends, 2 ids missing at the source, 1.2 s",
  );
  expect(fileLine({ ...rest, rows: 0, written: 0, alreadyStored: 0, files: 0, complete: false })).toBe(
    "BTCUSDT agg_trades 2024-12-31: REST serves no trade in this day up to 23:59:59.250 UTC, nothing written, 1.2 s",
  );
  expect(fileLine({ ...base, status: "already_landed", source: "rest" })).toBe(
    "BTCUSDT agg_trades 2024-12-31: already landed (whole day, archive or REST), nothing to do",
  );
  const e = Object.assign(new Error("REST's aggTrades no longer reach the day's start"), {
    kind: "unavailable",
  });
  expect(fileLine({ ...base, status: "failed", source: "rest", error: e })).toContain("FAILED unavailable, ");
});
