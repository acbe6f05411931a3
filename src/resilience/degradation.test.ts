import { describe, expect, test } from "bun:test";
import {
  DegradationManager,
  type DegradationMeasurements,
  type DegradationOptions,
  DegradationLevel as L,
  LEVEL_NAMES,
  type LevelChange,
} from "./degradation.ts";

const GiB = 1024 ** 3;
const COOLDOWN = 10_000;
const CALM: DegradationMeasurements = {
  ringFillRatio: 0,
  sinkWriteLagMs: 0,
  rssBytes: 0.1 * GiB,
  eventLoopLagP99Ms: 1,
};
const ring = (ringFillRatio: number): DegradationMeasurements => ({ ...CALM, ringFillRatio });

function setup(opts: Partial<DegradationOptions> = {}) {
  const changes: LevelChange[] = [];
  const dm = new DegradationManager({
    rssBudgetBytes: GiB,
    cooldownMs: COOLDOWN,
    onChange: (c) => changes.push(c),
    ...opts,
  });
  return { dm, changes };
}

describe("DegradationManager", () => {
  test("ring fill thresholds 0.5/0.7/0.85/0.95 map to the five levels", () => {
    const cases: [number, L][] = [
      [0.49, L.NORMAL],
      [0.5, L.SOFT],
      [0.7, L.GRACEFUL],
      [0.85, L.AGGRESSIVE],
      [0.95, L.CIRCUIT_BREAK],
      [1, L.CIRCUIT_BREAK],
    ];
    for (const [fill, level] of cases) expect(setup().dm.update(ring(fill), 0)).toBe(level);
  });

  test("steps up immediately, straight to the highest level asked for", () => {
    const { dm, changes } = setup();
    expect(dm.update(ring(0.2), 0)).toBe(L.NORMAL);
    expect(dm.update(ring(0.9), 1_000)).toBe(L.AGGRESSIVE);
    expect(dm.levelName).toBe("AGGRESSIVE");
    expect(dm.since).toBe(1_000);
    expect(changes.map((c) => [c.from, c.to, c.atMs])).toEqual([[0, 3, 1_000]]);
    expect(changes[0]!.reasons[0]).toMatchObject({ signal: "ring_fill", value: 0.9, level: L.AGGRESSIVE });
  });

  test("level is the max over signals, and reasons() name the signal that drove it", () => {
    const { dm } = setup();
    const m: DegradationMeasurements = {
      ringFillRatio: 0.55, // SOFT
      sinkWriteLagMs: 16_000, // GRACEFUL
      rssBytes: 0.92 * GiB, // AGGRESSIVE (0.92 of budget)
      eventLoopLagP99Ms: 120, // SOFT
    };
    expect(dm.update(m, 0)).toBe(L.AGGRESSIVE);
    const reasons = dm.reasons();
    expect(reasons.map((r) => r.signal)).toEqual([
      "memory_ratio",
      "sink_write_lag_ms",
      "ring_fill",
      "event_loop_lag_p99_ms",
    ]);
    expect(reasons[0]!.message).toContain("AGGRESSIVE");
    expect(dm.update({ ...m, eventLoopLagP99Ms: 1_500 }, 1)).toBe(L.CIRCUIT_BREAK);
    expect(dm.reasons()[0]!.signal).toBe("event_loop_lag_p99_ms");
  });

  test("steps down one level per cooldown, only once calm", () => {
    const { dm, changes } = setup();
    dm.update(ring(0.96), 0);
    const levels: number[] = [];
    for (let t = 1_000; t <= 60_000; t += 1_000) levels.push(dm.update(ring(0.1), t));
    // Calm from t=1000; each level needs a full COOLDOWN of calm.
    expect(levels[9]).toBe(L.CIRCUIT_BREAK); // t=10,000
    expect(levels[10]).toBe(L.AGGRESSIVE); // t=11,000
    expect(levels[20]).toBe(L.GRACEFUL); // t=21,000
    expect(levels[30]).toBe(L.SOFT);
    expect(levels[40]).toBe(L.NORMAL);
    expect(changes.map((c) => `${LEVEL_NAMES[c.from]}->${LEVEL_NAMES[c.to]}@${c.atMs}`)).toEqual([
      "NORMAL->CIRCUIT_BREAK@0",
      "CIRCUIT_BREAK->AGGRESSIVE@11000",
      "AGGRESSIVE->GRACEFUL@21000",
      "GRACEFUL->SOFT@31000",
      "SOFT->NORMAL@41000",
    ]);
    expect(dm.transitions).toBe(5);
  });

  test("hysteresis: below the enter threshold but above enter − margin keeps the level", () => {
    const { dm } = setup();
    dm.update(ring(0.72), 0);
    expect(dm.level).toBe(L.GRACEFUL);
    // 0.66 is below GRACEFUL's 0.7 but above its exit 0.65: held, and not calm.
    for (let t = 1_000; t <= 100_000; t += 1_000) expect(dm.update(ring(0.66), t)).toBe(L.GRACEFUL);
    expect(dm.nextStepDownAtMs).toBeNull();
    expect(dm.reasons()[0]).toMatchObject({ signal: "ring_fill", level: L.SOFT, holdLevel: L.GRACEFUL });
    expect(dm.reasons()[0]!.message).toContain("hysteresis");
    // 0.64 is below the exit: calm starts, and one cooldown later it steps to SOFT (0.64 ≥ 0.5).
    dm.update(ring(0.64), 101_000);
    expect(dm.nextStepDownAtMs).toBe(111_000);
    expect(dm.update(ring(0.64), 110_999)).toBe(L.GRACEFUL);
    expect(dm.update(ring(0.64), 111_000)).toBe(L.SOFT);
    for (let t = 112_000; t < 200_000; t += 1_000) expect(dm.update(ring(0.64), t)).toBe(L.SOFT);
  });

  test("a signal near the next threshold (within its margin) does not claim that level", () => {
    const { dm } = setup();
    expect(dm.update(ring(0.55), 0)).toBe(L.SOFT);
    // 0.66 is above GRACEFUL's exit (0.65) but below its enter (0.7): SOFT, and reported as SOFT.
    expect(dm.update(ring(0.66), 1_000)).toBe(L.SOFT);
    expect(dm.reasons()).toEqual([
      {
        signal: "ring_fill",
        value: 0.66,
        level: L.SOFT,
        holdLevel: L.SOFT,
        message: "ring_fill 0.66 ≥ 0.5 (SOFT)",
      },
    ]);
  });

  test("flapping input around a threshold does not flap the level", () => {
    const { dm } = setup();
    const levels = new Set<number>();
    for (let i = 0; i < 1_000; i++) levels.add(dm.update(ring(i % 2 === 0 ? 0.71 : 0.69), i * 100));
    expect([...levels]).toEqual([L.GRACEFUL]);
    expect(dm.transitions).toBe(1);
  });

  test("spiky input (calm with a spike more often than the cooldown) holds the level up", () => {
    const { dm } = setup();
    for (let t = 0; t < 300_000; t += 1_000) {
      const spike = t % 8_000 === 0; // a spike every 8 s, cooldown 10 s
      expect(dm.update(ring(spike ? 0.9 : 0.1), t)).toBe(L.AGGRESSIVE);
    }
    expect(dm.transitions).toBe(1);
    // The spikes stop: it comes down, one level per cooldown.
    let t = 300_000;
    while (dm.level !== L.NORMAL && t < 400_000) {
      t += 1_000;
      dm.update(ring(0.1), t);
    }
    expect(dm.level).toBe(L.NORMAL);
    expect(dm.transitions).toBe(4);
  });

  test("a spike during the cooldown restarts the calm period", () => {
    const { dm } = setup();
    dm.update(ring(0.6), 0); // SOFT
    dm.update(ring(0.1), 1_000); // calm from 1000
    dm.update(ring(0.47), 9_000); // ≥ exit 0.45: pressure again
    expect(dm.update(ring(0.1), 11_000)).toBe(L.SOFT); // would have stepped down without the spike
    expect(dm.update(ring(0.1), 20_999)).toBe(L.SOFT);
    expect(dm.update(ring(0.1), 21_000)).toBe(L.NORMAL);
  });

  test("policy getters follow the documented table", () => {
    const { dm } = setup({ cooldownMs: 0 });
    const rows: [number, string][] = [];
    for (const fill of [0, 0.5, 0.7, 0.85, 0.95]) {
      const lv = dm.update(ring(fill), 0);
      rows.push([
        lv,
        [
          dm.admission("trades"),
          dm.admission("agg_trades"),
          dm.admission("quotes"),
          dm.shouldAccept("quotes"),
          dm.allowQuery("cheap"),
          dm.allowQuery("expensive"),
          dm.allowQuery("health"),
          dm.queryBudgetScale,
          dm.compactionPaused,
        ].join(" "),
      ]);
    }
    expect(rows).toEqual([
      [L.NORMAL, "accept accept accept true true true true 1 false"],
      [L.SOFT, "accept accept accept true true true true 0.5 false"],
      [L.GRACEFUL, "accept accept drop_counted false true true true 0.5 false"],
      [L.AGGRESSIVE, "accept accept drop_counted false true false true 0.25 true"],
      [L.CIRCUIT_BREAK, "refuse_to_repair refuse_to_repair drop_counted false false false true 0 true"],
    ]);
    expect(dm.shouldAccept("trades")).toBe(false);
    expect(dm.retryAfterMs).toBe(0);
  });

  test("NaN signals drive nothing; Infinity is maximal pressure", () => {
    const { dm } = setup();
    expect(dm.update({ ...CALM, sinkWriteLagMs: Number.NaN }, 0)).toBe(L.NORMAL);
    expect(dm.reasons()).toEqual([]);
    expect(dm.update({ ...CALM, eventLoopLagP99Ms: Number.POSITIVE_INFINITY }, 1)).toBe(L.CIRCUIT_BREAK);
  });

  test("custom thresholds and validation", () => {
    const { dm } = setup({ thresholds: { ring_fill: { enter: [0.1, 0.2, 0.3, 0.4], margin: 0.01 } } });
    expect(dm.update(ring(0.25), 0)).toBe(L.GRACEFUL);
    expect(dm.update({ ...CALM, sinkWriteLagMs: 5_000 }, 1)).toBe(L.GRACEFUL); // default sink thresholds kept
    const bad = (enter: [number, number, number, number], margin: number) => () =>
      new DegradationManager({ rssBudgetBytes: GiB, thresholds: { ring_fill: { enter, margin } } });
    expect(bad([0.5, 0.4, 0.6, 0.7], 0.01)).toThrow(/ascending/);
    expect(bad([0.5, 0.6, 0.7, 0.8], 0.1)).toThrow(/margin/);
    expect(bad([0.5, 0.6, 0.7, 0.8], 0.09)).not.toThrow();
    expect(() => new DegradationManager({ rssBudgetBytes: 0 })).toThrow(RangeError);
  });

  test("a throwing onChange hook is counted and does not break update", () => {
    const dm = new DegradationManager({
      rssBudgetBytes: GiB,
      onChange: () => {
        throw new Error("hook");
      },
    });
    expect(dm.update(ring(0.8), 0)).toBe(L.GRACEFUL);
    expect(dm.hookErrors).toBe(1);
  });
});
