import { describe, expect, test } from "bun:test";
import { FAULT_CYCLE, faultCycle } from "./faults.ts";

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
