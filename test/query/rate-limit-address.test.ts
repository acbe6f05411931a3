/**
 * Issue 16 friction: anonymous callers get a rate-limit bucket per client address, not one shared
 * by all. Real sockets: two clients on different loopback addresses (127.0.0.2, 127.0.0.3).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { withClient } from "../../src/http/client-address.ts";
import { statusFrom } from "../support/from-address.ts";
import { type Harness, harness } from "./setup.ts";

let h: Harness;
let server: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  // Burst 2, and a clock that never moves: nothing refills during the test.
  h = await harness({ api: { rateLimitBurst: 2, rateLimitPerSec: 1 }, nowMs: () => 1_000_000 });
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => h.app.handle(withClient(req, srv)),
  });
});
afterAll(() => {
  server.stop(true);
  h.close();
});

/** One GET /v1/symbols from `localAddress`; the status code. */
function statusOf(localAddress: string): Promise<number> {
  return statusFrom(`http://127.0.0.1:${server.port}`, "/v1/symbols", localAddress);
}

test("one anonymous client using up its burst does not limit another", async () => {
  const first = [await statusOf("127.0.0.2"), await statusOf("127.0.0.2"), await statusOf("127.0.0.2")];
  expect(first).toEqual([200, 200, 429]);
  expect([await statusOf("127.0.0.3"), await statusOf("127.0.0.3")]).toEqual([200, 200]);
  expect(await statusOf("127.0.0.3")).toBe(429);
});
