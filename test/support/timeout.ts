/**
 * bun:test preload (bunfig.toml [test] preload): the default per-test timeout. Bun 1.4.5 ignores
 * `timeout` under bunfig's [test] and falls back to 5 s, shorter than the waits of the tests that
 * start processes; setDefaultTimeout from a preload is what it honours, for every `bun test` run
 * (make targets, CI, a bare `bun test path`). A test that needs longer passes its own timeout.
 * K2_TEST_TIMEOUT_MS overrides the value; test/support/timeout.test.ts uses it to prove it applies.
 * It forgets it, though, for every file after one that gives a test its own timeout: the Makefile's
 * test targets therefore also pass this value as `bun test --timeout` (read from this file).
 */
import { setDefaultTimeout } from "bun:test";

export const TEST_TIMEOUT_MS = 20_000;

const override = Number(process.env.K2_TEST_TIMEOUT_MS);
setDefaultTimeout(Number.isInteger(override) && override > 0 ? override : TEST_TIMEOUT_MS);
