/**
 * The simulator's archive over real HTTP on 127.0.0.1, read by K2's archive reader
 * (src/archive): both time units around 2025-01-01, contents equal to the simulator's own trades,
 * klines computed from them, the CHECKSUM file accepted by `sha256sum -c`, and every archive fault.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import {
  ArchiveError,
  type ArchiveFile,
  archiveBaseName,
  archiveChecksumPath,
  archiveUrl,
  archiveZipPath,
  type CsvOutput,
  readArchiveFile,
} from "../archive/index.ts";
import { allocKlineColumns, allocRowColumns, formatDecimal } from "../model/index.ts";
import { type Simulator, startSimulator } from "./index.ts";

const CLOCK_START_MS = Date.UTC(2025, 0, 2, 6); // history: 2024-12-31 (ms) and 2025-01-01 (µs)
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    symbols: ["BTCUSDT"],
    startTimeMs: CLOCK_START_MS,
    archiveDays: 2,
    archiveRatePerSec: 0.05,
    ratePerSec: 5,
    startTradeId: 1,
    startAggId: 1,
  });
});
afterAll(() => sim.stop());

const file = (dataset: ArchiveFile["dataset"], date: string): ArchiveFile => ({
  dataset,
  period: "daily",
  symbol: "BTCUSDT",
  date,
});

interface Trade {
  id: number;
  price: bigint;
  qty: bigint;
  first: number;
  last: number;
  us: number;
  bm: number;
}

async function readRows(f: ArchiveFile): Promise<{ rows: Trade[]; sha256: string }> {
  const cols = allocRowColumns(1000);
  const rows: Trade[] = [];
  const out: CsvOutput = {
    dataset: f.dataset as "trades",
    rows: cols,
    flush: (n) => {
      for (let i = 0; i < n; i++)
        rows.push({
          id: cols.id[i]!,
          price: cols.dec0[i]!,
          qty: cols.dec1[i]!,
          first: cols.first_id[i]!,
          last: cols.last_id[i]!,
          us: cols.trade_time_us[i]!,
          bm: cols.flags[i]!,
        });
    },
  };
  const r = await readArchiveFile(f, out, 0, 1, { root: sim.archiveUrl });
  expect(r.rows).toBe(rows.length);
  return { rows, sha256: r.sha256 };
}

async function archiveError(f: ArchiveFile): Promise<{ error: ArchiveError; flushed: number }> {
  let flushed = 0;
  const out: CsvOutput = { dataset: "trades", rows: allocRowColumns(64), flush: (n) => (flushed += n) };
  try {
    await readArchiveFile(f, out, 0, 1, { root: sim.archiveUrl });
  } catch (e) {
    expect(e).toBeInstanceOf(ArchiveError);
    return { error: e as ArchiveError, flushed };
  }
  throw new Error(`read ${archiveZipPath(f)} without error`);
}

describe("simulator archive → K2 archive reader over HTTP", () => {
  test("two archived days, ms before 2025-01-01 and µs from it, ids continuing into the live market", async () => {
    expect(sim.archiveTruth().dates).toEqual(["2024-12-31", "2025-01-01"]);
    const d1 = (await readRows(file("trades", "2024-12-31"))).rows;
    const d2 = (await readRows(file("trades", "2025-01-01"))).rows;
    expect(d1.length).toBe(sim.archiveTruth().rows("trades", "BTCUSDT", "2024-12-31"));
    expect(d1.length).toBeGreaterThan(3000); // ≈ 0.05/s × 86,400 s
    const all = [...d1, ...d2];
    expect(all.map((t) => t.id)).toEqual(all.map((_, i) => i + 1)); // every id once, in order, across the switch
    const day = (d: string) => Date.parse(`${d}T00:00:00Z`) * 1000;
    for (const t of d1) expect(t.us >= day("2024-12-31") && t.us < day("2025-01-01")).toBe(true);
    for (const t of d2) expect(t.us >= day("2025-01-01") && t.us < day("2025-01-02")).toBe(true);
    // The raw time column: 13 digits (ms) in the 2024 file, 16 (µs) in the 2025 one.
    const zip1 = new Uint8Array(
      await (
        await fetch(archiveUrl(sim.archiveUrl, archiveZipPath(file("trades", "2024-12-31"))))
      ).arrayBuffer(),
    );
    const zip2 = new Uint8Array(
      await (
        await fetch(archiveUrl(sim.archiveUrl, archiveZipPath(file("trades", "2025-01-01"))))
      ).arrayBuffer(),
    );
    const firstLine = (z: Uint8Array, name: string) =>
      new TextDecoder().decode(unzipSync(z)[name]).split("\n")[0]!;
    expect(firstLine(zip1, "BTCUSDT-trades-2024-12-31.csv").split(",")[4]).toMatch(/^\d{13}$/);
    expect(firstLine(zip2, "BTCUSDT-trades-2025-01-01.csv").split(",")[4]).toMatch(/^\d{16}$/);
    // The live market continues after the archive's last id (REST serves the same generator).
    const rest = (await (
      await fetch(`${sim.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${all.length}&limit=2`)
    ).json()) as Array<{ id: number; price: string }>;
    expect(rest[0]!.id).toBe(all.length);
    expect(rest[0]!.price).toBe(formatDecimal(all.at(-1)!.price));
  });

  test("aggTrades cover the same trades; klines are the minutes of those trades (1440 a day, empty ones too)", async () => {
    const date = "2024-12-31";
    const trades = (await readRows(file("trades", date))).rows;
    const aggs = (await readRows(file("aggTrades", date))).rows;
    expect(aggs[0]!.first).toBe(trades[0]!.id);
    expect(aggs.at(-1)!.last).toBe(trades.at(-1)!.id);
    for (let i = 1; i < aggs.length; i++) expect(aggs[i]!.first).toBe(aggs[i - 1]!.last + 1);
    const k = allocKlineColumns(2000);
    let n = 0;
    await readArchiveFile(
      file("klines", date),
      { dataset: "klines", klines: k, flush: (c) => (n = c) },
      0,
      1,
      {
        root: sim.archiveUrl,
      },
    );
    expect(n).toBe(1440);
    let empty = 0;
    let at = 0;
    for (let m = 0; m < 1440; m++) {
      const open = k.open_time_us[m]!;
      expect(open).toBe(Date.parse(`${date}T00:00:00Z`) * 1000 + m * 60e6);
      expect(k.close_time_us[m]).toBe(open + 59_999_000); // ms file: T = t + 59999 ms
      const minute: Trade[] = [];
      while (at < trades.length && trades[at]!.us < open + 60e6) minute.push(trades[at++]!);
      expect(k.trades[m]).toBe(minute.length);
      if (minute.length === 0) {
        empty++;
        expect(k.open[m]).toBe(k.close[m - 1] ?? k.open[m]!);
        expect(k.volume[m]).toBe(0n);
        continue;
      }
      const prices = minute.map((t) => t.price);
      expect([k.open[m], k.close[m]]).toEqual([prices[0]!, prices.at(-1)!]);
      const sorted = [...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect([k.low[m], k.high[m]]).toEqual([sorted[0]!, sorted.at(-1)!]);
      expect(k.volume[m]).toBe(minute.reduce((s, t) => s + t.qty, 0n));
      expect(k.quote_volume[m]).toBe(minute.reduce((s, t) => s + (t.price * t.qty) / 100_000_000n, 0n));
    }
    expect(at).toBe(trades.length);
    expect(empty).toBeGreaterThan(0); // at 0.05 trades/s some minutes have none
  });

  test("the CHECKSUM file is what `sha256sum -c` accepts", async () => {
    const f = file("aggTrades", "2025-01-01");
    const dir = mkdtempSync(join(tmpdir(), "k2-archive-"));
    try {
      const zip = await (await fetch(archiveUrl(sim.archiveUrl, archiveZipPath(f)))).arrayBuffer();
      const sum = await (await fetch(archiveUrl(sim.archiveUrl, archiveChecksumPath(f)))).text();
      writeFileSync(join(dir, `${archiveBaseName(f)}.zip`), new Uint8Array(zip));
      writeFileSync(join(dir, "CHECKSUM"), sum);
      const p = Bun.spawnSync(["sha256sum", "-c", "CHECKSUM"], { cwd: dir });
      expect(p.stdout.toString()).toBe(`${archiveBaseName(f)}.zip: OK\n`);
      expect(p.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("faults: a missing day, a wrong checksum, a truncated zip — each refused before any row is handed on", async () => {
    const f = file("trades", "2025-01-01");
    sim.faults.archive(f, "missing");
    const missing = await archiveError(f);
    expect(missing.error.kind).toBe("not_found");
    expect(missing.error.message).toContain("404");
    expect((await fetch(archiveUrl(sim.archiveUrl, archiveZipPath(f)))).status).toBe(404);
    sim.faults.archive(f, "badChecksum");
    const bad = await archiveError(f);
    expect([bad.error.kind, bad.flushed]).toEqual(["checksum_mismatch", 0]);
    sim.faults.archive(f, "truncated");
    const cut = await archiveError(f);
    expect(cut.error.kind).toBe("corrupt_zip");
    expect(cut.error.message).toMatch(/not a readable zip/);
    const admin = (await (await fetch(`${sim.adminUrl}/archive`)).json()) as {
      dates: string[];
      faults: unknown[];
    };
    expect(admin).toEqual({
      dates: ["2024-12-31", "2025-01-01"],
      faults: [{ path: archiveZipPath(f), fault: "truncated" }],
    });
    sim.faults.archive(f, "none");
    expect((await readRows(f)).rows.length).toBe(sim.archiveTruth().rows("trades", "BTCUSDT", f.date));
  });

  test("a replaced file: the stale first upload lacks the last row; the replacement has it and a new checksum", async () => {
    const f = file("aggTrades", "2024-12-31");
    const truth = sim.archiveTruth().rows("aggTrades", "BTCUSDT", f.date);
    sim.faults.archive(f, "stale");
    const first = await readRows(f);
    expect(first.rows.length).toBe(truth - 1);
    sim.faults.archive(f, "none");
    const replaced = await readRows(f);
    expect(replaced.rows.length).toBe(truth);
    expect(replaced.sha256).not.toBe(first.sha256);
  });

  test("days outside the archive, months it does not hold whole and bad paths answer 404; bad fault patches are refused", async () => {
    for (const date of ["2024-12-30", "2025-01-02"])
      expect((await archiveError(file("trades", date))).error.kind).toBe("not_found");
    expect((await archiveError({ ...file("trades", "2024-12"), period: "monthly" })).error.kind).toBe(
      "not_found",
    );
    expect((await fetch(`${sim.archiveUrl}/data/spot/daily/trades/BTCUSDT/x.zip`)).status).toBe(404);
    expect(() =>
      sim.applyFaults({
        archive: { file: { dataset: "depth", symbol: "BTCUSDT", date: "2025-01-01" }, fault: "missing" },
      } as never),
    ).toThrow(/archive.file.dataset/);
    expect(() =>
      sim.applyFaults({ archive: { file: file("trades", "2025-01-01"), fault: "gone" } } as never),
    ).toThrow(/archive.fault/);
  });
});
