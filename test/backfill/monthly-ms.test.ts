/**
 * A monthly file dated before 2025-01 carries its times in milliseconds (Binance's archive rule,
 * src/archive/time-unit.ts): December 2024 from the simulator's monthly file lands with the same
 * µs times as its daily files give, every id once (DuckDB). The µs month: monthly.test.ts.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { type ArchiveFile, archiveBaseName, archiveUrl, archiveZipPath } from "../../src/archive/index.ts";
import { daysBetween } from "../../src/backfill/index.ts";
import { runBackfillCli } from "../../src/cli/index.ts";
import { archiveLines, storedLines } from "./archive-rig.ts";
import { MS_MONTH_CLOCK, monthSimPerFile } from "./month-rig.ts";

const SYMBOL = "ETHUSDT";
const rig = monthSimPerFile([SYMBOL], MS_MONTH_CLOCK);

test("December 2024 (ms times) lands from its monthly file with the daily files' rows, every id once", async () => {
  const month: ArchiveFile = { dataset: "aggTrades", period: "monthly", symbol: SYMBOL, date: "2024-12" };
  // The monthly CSV's times really are 13-digit milliseconds.
  const zip = new Uint8Array(
    await (await fetch(archiveUrl(rig.sim.archiveUrl, archiveZipPath(month)))).arrayBuffer(),
  );
  const first = new TextDecoder().decode(unzipSync(zip)[`${archiveBaseName(month)}.csv`]).split("\n")[0]!;
  expect(first.split(",")[5]).toMatch(/^17\d{11}$/);

  const dataDir = mkdtempSync(join(tmpdir(), "k2-backfill-month-ms-"));
  try {
    const lines: string[] = [];
    const code = await runBackfillCli(
      [
        "--symbols",
        SYMBOL,
        "--from",
        "2024-12-01",
        "--to",
        "2024-12-31",
        "--tables",
        "agg_trades",
        "--data-dir",
        dataDir,
      ],
      {
        env: { K2_ARCHIVE_URL: rig.sim.archiveUrl },
        isTty: false,
        out: () => {},
        error: (l) => lines.push(l),
      },
    );
    expect(code).toBe(0);
    expect(lines.join("\n")).toMatch(
      /ETHUSDT agg_trades 2024-12: landed \d+ rows \(\d+ new, 0 already stored\)/,
    );
    const want: string[] = [];
    for (const date of daysBetween("2024-12-01", "2024-12-31"))
      want.push(...(await archiveLines(rig.sim.archiveUrl, { ...month, period: "daily", date })));
    expect(want.length).toBeGreaterThan(10_000);
    const got = await storedLines(dataDir, "agg_trades", SYMBOL);
    expect(got.rows).toBe(got.distinct);
    expect(got.lines).toEqual(want);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 15_000);
