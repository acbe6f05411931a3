/**
 * The monthly backfill tests' market: the simulator's clock starts on 2025-03-01 06:00 UTC with
 * 31 archived days before it (2025-01-29 .. 2025-02-28), so February 2025 is a whole past month
 * its archive serves as a monthly file (µs times) and the end of January a partial one. Started
 * at `MS_MONTH_CLOCK` instead, December 2024 is the whole month (ms times).
 */
import { afterAll, beforeAll } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { closeReader } from "./archive-rig.ts";

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

/**
 * A test file's month simulator: started before its tests, stopped after them (with the rig's
 * DuckDB reader). Read `rig.sim` inside tests.
 */
export function monthSimPerFile(symbols: string[], startTimeMs?: number): { readonly sim: Simulator } {
  const rig = {} as { sim: Simulator };
  beforeAll(async () => {
    rig.sim = await startMonthSim(symbols, startTimeMs);
  });
  afterAll(() => {
    rig.sim?.stop();
    closeReader();
  });
  return rig;
}
