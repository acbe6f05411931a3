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
