/**
 * bun:test preload (bunfig.toml [test] preload): the test resource guard. Every test is checked
 * for child processes, servers, listeners, WebSocket clients, ref'd timers and temp entries it
 * opened and left open; things opened outside a test (module load, beforeAll) are checked when
 * their file ends. At the end of the run anything still open is closed and the private temp
 * root removed, whatever the mode, so no process or folder outlives `bun test`.
 *
 * K2_TEST_GUARD=fail (default): a leak fails the test (or, outside a test, the hook after its
 *                     file) and is closed; warn: a leak is printed
 *                     to stderr and left as it is; off: no guard.
 */
import { afterAll, afterEach, beforeEach } from "bun:test";
import { resolve } from "node:path";
import { makeTempRoot, parseGuardMode, ResourceGuard } from "./guard-core.ts";

const mode = parseGuardMode(process.env.K2_TEST_GUARD);

if (mode !== "off") {
  const tempRoot = makeTempRoot();
  // os.tmpdir() reads TMPDIR on every call, and children spawned with process.env inherit it.
  process.env.TMPDIR = tempRoot;
  const guard = new ResourceGuard({ mode, root: `${resolve(import.meta.dir, "../..")}/`, tempRoot });
  guard.install({ Bun: Bun as never, globalThis: globalThis as never });

  const raise = (): void => {
    const text = guard.failures.splice(0).join("\n");
    if (text) throw new Error(`${text}\n  (closed by the guard; K2_TEST_GUARD=warn only reports)`);
  };
  beforeEach(() => {
    guard.testStarted(Bun.main);
    raise();
  });
  afterEach(() => {
    guard.testEnded();
    raise();
  });
  afterAll(() => {
    guard.runEnded();
    raise();
  });
}
