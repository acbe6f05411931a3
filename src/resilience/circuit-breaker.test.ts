import { describe, expect, test } from "bun:test";
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  type StateChange,
} from "./circuit-breaker.ts";

class FakeError extends Error {
  constructor(readonly retryable: boolean) {
    super(retryable ? "timeout" : "invalid symbol");
  }
}

/** A breaker on a fake clock, recording every transition. */
function setup(opts: Partial<CircuitBreakerOptions> = {}) {
  let t = 0;
  const changes: string[] = [];
  const cb = new CircuitBreaker({
    name: "binance-rest",
    failureThreshold: 3,
    openDurationMs: 10_000,
    now: () => t,
    onStateChange: (c: StateChange) => changes.push(`${c.from}->${c.to}@${c.atMs}`),
    ...opts,
  });
  const advance = (ms: number) => {
    t += ms;
  };
  return { cb, changes, advance };
}

const ok = () => Promise.resolve("ok");
const fail = () => Promise.reject(new FakeError(true));
const failSync = (): never => {
  throw new FakeError(true);
};

/** A call that stays in flight until the test settles it. */
function deferred() {
  let resolve!: (v: string) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { fn: () => promise, resolve, reject };
}

async function failTimes(cb: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) await expect(cb.exec(fail)).rejects.toBeInstanceOf(FakeError);
}

describe("CircuitBreaker", () => {
  test("opens after N consecutive failures and then rejects without calling fn", async () => {
    const { cb, changes } = setup();
    await failTimes(cb, 2);
    expect(cb.state).toBe("closed");
    expect(cb.consecutiveFailures).toBe(2);
    await expect(cb.exec(failSync)).rejects.toBeInstanceOf(FakeError); // sync throws count too
    expect(cb.state).toBe("open");
    let called = 0;
    const err = await cb
      .exec(() => {
        called++;
        return ok();
      })
      .catch((e: unknown) => e);
    expect(called).toBe(0);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toMatchObject({
      kind: "circuit_open",
      retryable: true,
      retryAfterMs: 10_000,
      breaker: "binance-rest",
    });
    expect(cb.counters).toMatchObject({ failures: 3, rejections: 1, opens: 1, transitions: 1 });
    expect(changes).toEqual(["closed->open@0"]);
  });

  test("a success between failures resets the consecutive count", async () => {
    const { cb } = setup();
    await failTimes(cb, 2);
    expect(await cb.exec(ok)).toBe("ok");
    await failTimes(cb, 2);
    expect(cb.state).toBe("closed");
    expect(cb.counters).toMatchObject({ successes: 1, failures: 4 });
  });

  test("retryAfterMs counts down while open; half-open after openDurationMs", async () => {
    const { cb, advance, changes } = setup();
    await failTimes(cb, 3);
    advance(4_000);
    expect(cb.retryAfterMs()).toBe(6_000);
    await expect(cb.exec(ok)).rejects.toMatchObject({ retryAfterMs: 6_000 });
    advance(6_000);
    expect(cb.state).toBe("half_open");
    expect(cb.retryAfterMs()).toBe(0);
    expect(changes).toEqual(["closed->open@0", "open->half_open@10000"]);
  });

  test("half-open: a successful probe closes", async () => {
    const { cb, advance, changes } = setup();
    await failTimes(cb, 3);
    advance(10_000);
    expect(await cb.exec(ok)).toBe("ok");
    expect(cb.state).toBe("closed");
    expect(cb.consecutiveFailures).toBe(0);
    expect(changes).toEqual(["closed->open@0", "open->half_open@10000", "half_open->closed@10000"]);
  });

  test("half-open: a failed probe reopens for a fresh openDurationMs", async () => {
    const { cb, advance } = setup();
    await failTimes(cb, 3);
    advance(10_000);
    await failTimes(cb, 1);
    expect(cb.state).toBe("open");
    expect(cb.retryAfterMs()).toBe(10_000);
    advance(9_999);
    expect(cb.state).toBe("open");
    advance(1);
    expect(cb.state).toBe("half_open");
    expect(cb.counters.opens).toBe(2);
  });

  test("half-open admits only halfOpenMaxProbes concurrent probes", async () => {
    const { cb, advance } = setup({ halfOpenMaxProbes: 2, halfOpenSuccesses: 2, probeRetryAfterMs: 500 });
    await failTimes(cb, 3);
    advance(10_000);
    const p1 = deferred();
    const p2 = deferred();
    let ran = 0;
    const r1 = cb.exec(p1.fn);
    const r2 = cb.exec(p2.fn);
    const refused = await Promise.allSettled(
      [1, 2, 3].map(() =>
        cb.exec(() => {
          ran++;
          return ok();
        }),
      ),
    );
    expect(ran).toBe(0);
    for (const r of refused) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toMatchObject({ kind: "circuit_open", retryAfterMs: 500 });
    }
    p1.resolve("a");
    expect(await r1).toBe("a");
    expect(cb.state).toBe("half_open"); // needs 2 successes
    // The finished probe freed its slot: one more probe may run now.
    const p3 = deferred();
    const r3 = cb.exec(p3.fn);
    await expect(cb.exec(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    p2.resolve("b");
    expect(await r2).toBe("b");
    expect(cb.state).toBe("closed");
    // p3 was admitted under half-open; its late failure does not reopen the closed breaker.
    p3.reject(new FakeError(true));
    await expect(r3).rejects.toBeInstanceOf(FakeError);
    expect(cb.state).toBe("closed");
    expect(cb.consecutiveFailures).toBe(0);
    expect(cb.counters.rejections).toBe(4);
  });

  test("calls admitted while closed that fail after the breaker opened do not extend the open period", async () => {
    const { cb, advance } = setup();
    const slow = deferred();
    const r = cb.exec(slow.fn);
    await failTimes(cb, 3);
    advance(9_000);
    slow.reject(new FakeError(true));
    await expect(r).rejects.toBeInstanceOf(FakeError);
    expect(cb.retryAfterMs()).toBe(1_000);
    expect(cb.counters).toMatchObject({ failures: 4, opens: 1 });
  });

  test("non-retryable errors mean the dependency answered: not failures, still re-thrown", async () => {
    const { cb, advance } = setup();
    const bad = () => Promise.reject(new FakeError(false));
    for (let i = 0; i < 10; i++) await expect(cb.exec(bad)).rejects.toBeInstanceOf(FakeError);
    expect(cb.state).toBe("closed");
    await failTimes(cb, 2);
    await expect(cb.exec(bad)).rejects.toBeInstanceOf(FakeError);
    expect(cb.consecutiveFailures).toBe(0);
    await failTimes(cb, 3);
    advance(10_000);
    await expect(cb.exec(bad)).rejects.toBeInstanceOf(FakeError); // a probe answered: close
    expect(cb.state).toBe("closed");
    expect(cb.counters).toMatchObject({ nonFailureErrors: 12, failures: 5 });
  });

  test("a classifier can ignore errors entirely", async () => {
    const { cb } = setup({ classify: () => "ignore" });
    for (let i = 0; i < 10; i++) await expect(cb.exec(fail)).rejects.toBeInstanceOf(FakeError);
    expect(cb.state).toBe("closed");
    expect(cb.counters.nonFailureErrors).toBe(10);
  });

  test("failure ratio over a rolling window opens even without a consecutive run", async () => {
    const { cb } = setup({
      failureThreshold: 100,
      failureRatio: { threshold: 0.5, windowSize: 10, minCalls: 6 },
    });
    // fail, ok, fail, ok, fail: ratio 0.6 but only 5 calls (< minCalls)
    for (let i = 0; i < 5; i++) {
      if (i % 2 === 0) await failTimes(cb, 1);
      else await cb.exec(ok);
    }
    expect(cb.state).toBe("closed");
    await cb.exec(ok); // 6 calls, 3 failures: ratio 0.5 reached, but a success never opens
    expect(cb.state).toBe("closed");
    await failTimes(cb, 1); // 7 calls, 4 failures
    expect(cb.state).toBe("open");
  });

  test("the rolling window forgets old outcomes", async () => {
    const { cb } = setup({
      failureThreshold: 100,
      failureRatio: { threshold: 0.5, windowSize: 4, minCalls: 4 },
    });
    await failTimes(cb, 1);
    for (let i = 0; i < 4; i++) await cb.exec(ok); // the failure slid out
    await failTimes(cb, 1);
    expect(cb.state).toBe("closed"); // 1 of last 4
    await failTimes(cb, 1);
    expect(cb.state).toBe("open"); // 2 of last 4
  });

  test("a throwing hook is counted, not propagated", async () => {
    const { cb } = setup({
      onStateChange: () => {
        throw new Error("bad hook");
      },
    });
    await failTimes(cb, 3);
    expect(cb.state).toBe("open");
    expect(cb.counters.hookErrors).toBe(1);
  });

  test("rejects invalid options", () => {
    expect(() => new CircuitBreaker({ name: "x", failureThreshold: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ name: "x", halfOpenMaxProbes: 1.5 })).toThrow(RangeError);
    expect(
      () => new CircuitBreaker({ name: "x", failureRatio: { threshold: 0.5, windowSize: 4, minCalls: 5 } }),
    ).toThrow(/minCalls/);
  });
});
