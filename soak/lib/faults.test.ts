import { describe, expect, test } from "bun:test";
import { FAULT_CYCLE, faultCycle, PRIME_GAP_MS, primeOffsets } from "./faults.ts";

describe("soak fault selection", () => {
  test("all kinds by default; named kinds only, in cycle order; unknown or no names refused", () => {
    expect(faultCycle(null)).toBe(FAULT_CYCLE);
    expect(faultCycle(["stall", "drop-close"]).map((k) => k.name)).toEqual(["drop-close", "stall"]);
    expect(faultCycle(["lose-ids"]).map((k) => k.name)).toEqual(["lose-ids"]);
    expect(() => faultCycle(["stall", "stal"])).toThrow(
      /unknown fault kind "stal": expected some of drop-close/,
    );
    expect(() => faultCycle([])).toThrow(/unknown fault kind ""/);
  });
});

describe("the priming pass", () => {
  test("each kind once, a gap apart, ending a gap before the first regular fault; none when it does not fit", () => {
    expect(primeOffsets(7, 300_000, 5000)).toEqual([35, 70, 105, 140, 175, 210, 245].map((s) => s * 1000));
    expect(primeOffsets(7, 8 * PRIME_GAP_MS, 5000)).toHaveLength(7);
    expect(primeOffsets(7, 8 * PRIME_GAP_MS - 1, 5000)).toEqual([]);
    expect(primeOffsets(7, 15_000, 5000)).toEqual([]); // make soak-smoke: every=15s
    // A long data timeout widens the gap so a stall (1.5 × the timeout) ends before the next kind.
    expect(primeOffsets(2, 600_000, 30_000)).toEqual([60_000, 120_000]);
  });
});
