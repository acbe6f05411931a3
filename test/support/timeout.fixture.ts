// Run only by test/support/timeout.test.ts in a child `bun test` (not matched by *.test.ts).
import { expect, test } from "bun:test";

test("sleeps K2_FIXTURE_SLEEP_MS", async () => {
  await Bun.sleep(Number(process.env.K2_FIXTURE_SLEEP_MS));
  expect(Number(process.env.K2_FIXTURE_SLEEP_MS)).toBeGreaterThan(0);
});
