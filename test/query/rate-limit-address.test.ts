/**
 * Issue 16 friction: anonymous callers get a rate-limit bucket per client address, not one shared
 * by all. Real sockets: two clients on different loopback addresses (127.0.0.2, 127.0.0.3).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { withClient } from "../../src/http/client-address.ts";
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
function statusFrom(localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: "127.0.0.1", port: Number(server.port), localAddress }, () =>
      c.write(`GET /v1/symbols HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    c.setTimeout(5_000, () => c.destroy(new Error("no answer within 5 s")));
    c.on("data", (d) => {
      text += d.toString();
    });
    c.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    c.on("error", reject);
  });
}

test("one anonymous client using up its burst does not limit another", async () => {
  const first = [await statusFrom("127.0.0.2"), await statusFrom("127.0.0.2"), await statusFrom("127.0.0.2")];
  expect(first).toEqual([200, 200, 429]);
  expect([await statusFrom("127.0.0.3"), await statusFrom("127.0.0.3")]).toEqual([200, 200]);
  expect(await statusFrom("127.0.0.3")).toBe(429);
});
