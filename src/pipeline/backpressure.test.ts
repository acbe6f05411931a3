import { describe, expect, test } from "bun:test";
import { Backpressure, PAUSE_FILL, RESUME_FILL } from "./backpressure.ts";

/** A Backpressure whose actions are recorded as "pause@fill" / "resume@fill". */
function recorded(pauseAt?: number, resumeAt?: number) {
  const calls: string[] = [];
  const bp = new Backpressure(
    { pause: (f) => calls.push(`pause@${f}`), resume: (f) => calls.push(`resume@${f}`) },
    pauseAt,
    resumeAt,
  );
  return { bp, calls };
}

describe("Backpressure", () => {
  test("pauses at 0.9, resumes at 0.5, and nothing in between (hysteresis)", () => {
    expect([PAUSE_FILL, RESUME_FILL]).toEqual([0.9, 0.5]);
    const { bp, calls } = recorded();
    for (const f of [0, 0.5, 0.89, 0.7]) bp.update(f);
    expect(calls).toEqual([]); // below the pause threshold: never paused, so never resumed
    bp.update(0.9);
    expect(bp.paused).toBe(true);
    for (const f of [1, 0.95, 0.89, 0.51, 0.6, 0.9]) bp.update(f); // between: stays paused, no repeat
    expect(calls).toEqual(["pause@0.9"]);
    bp.update(0.5);
    expect(bp.paused).toBe(false);
    for (const f of [0.5, 0.2, 0, 0.89]) bp.update(f); // resumed: no second resume
    bp.update(0.97);
    bp.update(0.1);
    expect(calls).toEqual(["pause@0.9", "resume@0.5", "pause@0.97", "resume@0.1"]);
    expect([bp.pauses, bp.resumes]).toEqual([2, 2]);
  });

  test("one tick from full to empty and back alternates exactly once each way", () => {
    const { bp, calls } = recorded();
    for (let i = 0; i < 5; i++) {
      bp.update(1);
      bp.update(1);
      bp.update(0);
      bp.update(0);
    }
    expect(calls).toEqual(Array.from({ length: 5 }, () => ["pause@1", "resume@0"]).flat());
    expect([bp.pauses, bp.resumes, bp.paused]).toEqual([5, 5, false]);
  });

  test("custom thresholds; an inverted or out-of-range pair is refused", () => {
    const { bp, calls } = recorded(0.75, 0.25);
    for (const f of [0.74, 0.75, 0.26, 0.25]) bp.update(f);
    expect(calls).toEqual(["pause@0.75", "resume@0.25"]);
    expect(() => recorded(0.5, 0.5)).toThrow(RangeError);
    expect(() => recorded(0.5, 0.6)).toThrow(RangeError);
    expect(() => recorded(1.1, 0.5)).toThrow(RangeError);
    expect(() => recorded(0.9, -0.1)).toThrow(RangeError);
  });
});
