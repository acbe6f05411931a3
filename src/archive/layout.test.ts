import { describe, expect, test } from "bun:test";
import {
  type ArchiveFile,
  archiveChecksumPath,
  archiveCsvName,
  archiveUrl,
  archiveZipPath,
  parseArchivePath,
} from "./layout.ts";
import { archiveTimeFromUs, archiveTimeToUs, archiveUsesMicros, periodStartMs } from "./time-unit.ts";

const day = (dataset: ArchiveFile["dataset"], date = "2025-01-01"): ArchiveFile => ({
  dataset,
  period: "daily",
  symbol: "BTCUSDT",
  date,
});

describe("archive layout (data.binance.vision paths)", () => {
  test("daily trades, aggTrades and 1m klines paths, CHECKSUM and CSV names", () => {
    expect(archiveZipPath(day("trades"))).toBe(
      "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2025-01-01.zip",
    );
    expect(archiveZipPath(day("aggTrades"))).toBe(
      "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip",
    );
    expect(archiveZipPath(day("klines"))).toBe("data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-01.zip");
    expect(archiveChecksumPath(day("trades"))).toBe(
      "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2025-01-01.zip.CHECKSUM",
    );
    expect(archiveCsvName(day("klines"))).toBe("BTCUSDT-1m-2025-01-01.csv");
    const monthly: ArchiveFile = { dataset: "trades", period: "monthly", symbol: "ETHUSDT", date: "2024-12" };
    expect(archiveZipPath(monthly)).toBe("data/spot/monthly/trades/ETHUSDT/ETHUSDT-trades-2024-12.zip");
    expect(archiveUrl("http://h/archive/", "data/x.zip")).toBe("http://h/archive/data/x.zip");
  });

  test("parse is the inverse of build, and refuses paths that disagree with themselves", () => {
    for (const f of [day("trades"), day("aggTrades", "2024-12-31"), day("klines")]) {
      expect(parseArchivePath(archiveZipPath(f))).toEqual({ file: f, checksum: false });
      expect(parseArchivePath(archiveChecksumPath(f))).toEqual({ file: f, checksum: true });
    }
    expect(parseArchivePath("data/spot/daily/trades/BTCUSDT/ETHUSDT-trades-2025-01-01.zip")).toBeNull();
    expect(parseArchivePath("data/spot/daily/trades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip")).toBeNull();
    expect(parseArchivePath("data/spot/daily/klines/BTCUSDT/BTCUSDT-1m-2025-01-01.zip")).toBeNull();
    expect(parseArchivePath("data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2025-13-45.zip")).toBeNull();
    expect(() => archiveZipPath({ ...day("trades"), symbol: "btc" })).toThrow(/symbol 'btc'/);
  });
});

describe("the 2025-01-01 time-unit switch, both sides", () => {
  const lastMsDay = periodStartMs("2024-12-31");
  const firstUsDay = periodStartMs("2025-01-01");

  test("files dated 2024-12-31 carry ms, from 2025-01-01 µs (the writer's rule)", () => {
    expect(archiveUsesMicros(lastMsDay)).toBe(false);
    expect(archiveUsesMicros(firstUsDay - 1)).toBe(false);
    expect(archiveUsesMicros(firstUsDay)).toBe(true);
    expect(archiveUsesMicros(periodStartMs("2024-12"))).toBe(false);
    expect(archiveUsesMicros(periodStartMs("2025-01"))).toBe(true);
    const us = 1_735_689_599_999_123; // 2024-12-31T23:59:59.999123Z
    expect(archiveTimeFromUs(us, lastMsDay)).toBe(1_735_689_599_999);
    expect(archiveTimeFromUs(us + 1000, firstUsDay)).toBe(us + 1000);
  });

  test("the reader normalises by magnitude: the last ms and the first µs of the switch", () => {
    expect(archiveTimeToUs(1_735_689_599_999)).toBe(1_735_689_599_999_000);
    expect(archiveTimeToUs(1_735_689_600_000_000)).toBe(1_735_689_600_000_000);
    expect(archiveTimeToUs(1_735_689_600_123)).toBe(1_735_689_600_123_000);
    expect(archiveTimeToUs(1_735_689_600_123_456)).toBe(1_735_689_600_123_456);
    // Magnitude boundary: just below 1e14 is ms (year 5138), 1e14 and up is µs (1973).
    expect(archiveTimeToUs(99_999_999_999_999)).toBe(99_999_999_999_999_000);
    expect(archiveTimeToUs(100_000_000_000_000)).toBe(100_000_000_000_000);
  });
});
