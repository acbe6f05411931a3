/**
 * The default test timeout is set where Bun 1.4.5 reads it (timeout.ts, preloaded from bunfig):
 * a child `bun test` with a 300 ms default fails a 700 ms test, and passes it with a 3 s default.
 * Under Bun's own 5 s default both would pass; bunfig's `timeout` key alone changed nothing.
 */
import { expect, test } from "bun:test";
import { runTestFile } from "./bun-test-child.ts";
import { TEST_TIMEOUT_MS } from "./timeout.ts";

const runFixture = (timeoutMs: number, sleepMs: number) =>
  runTestFile("./test/support/timeout.fixture.ts", {
    K2_TEST_TIMEOUT_MS: String(timeoutMs),
    K2_FIXTURE_SLEEP_MS: String(sleepMs),
  });

test("the preloaded default timeout applies to every test", async () => {
  const short = await runFixture(300, 700);
  expect(short.out).toContain("timed out after 300ms");
  expect(short.code).not.toBe(0);
  const long = await runFixture(3000, 700);
  expect(long.out).toMatch(/ 1 pass/);
  expect(long.code).toBe(0);
  // Long enough for the process tests' own waits (8–15 s) with room to report their own error.
  expect(TEST_TIMEOUT_MS).toBeGreaterThanOrEqual(20_000);
});
