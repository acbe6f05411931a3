/**
 * The monthly backfill tests' market: the simulator's clock starts on 2025-03-01 06:00 UTC with
 * 31 archived days before it (2025-01-29 .. 2025-02-28), so February 2025 is a whole past month
 * its archive serves as a monthly file (µs times) and the end of January a partial one. Started
 * at `MS_MONTH_CLOCK` instead, December 2024 is the whole month (ms times).
 */
import { type Simulator, startSimulator } from "../../src/sim/index.ts";

export const MS_MONTH_CLOCK = Date.UTC(2025, 0, 1, 6);

export function startMonthSim(symbols: string[], startTimeMs = Date.UTC(2025, 2, 1, 6)): Promise<Simulator> {
  return startSimulator({
    symbols,
    startTimeMs,
    archiveDays: 31,
    // ~1,700 trades a day: a month of ~48,000, enough for dozens of staged files at small batches.
    archiveRatePerSec: 0.02,
    ratePerSec: 5,
    startTradeId: 1,
    startAggId: 1,
  });
}
