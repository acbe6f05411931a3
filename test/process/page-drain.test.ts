/**
 * A live page's stream lasts as long as the page is open, and K2's drain never waits on it: a
 * real K2 on its simulator keeps a /page/live stream open for longer than the old 2-second cut,
 * then SIGTERM ends the stream at once with its `end` event and K2 exits 0 quickly.
 */
import { afterEach, expect, test } from "bun:test";
import { waitUntil } from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";

let k2: K2Process | undefined;
afterEach(() => {
  k2?.cleanup();
  k2 = undefined;
});

test("an open page stream stays open, ends at SIGTERM with its end event, and K2 exits 0 at once", async () => {
  const k = await startK2({ K2_SYMBOLS: "BTCUSDT", K2_SHUTDOWN_GRACE_MS: "8000" });
  k2 = k;
  await waitUntil(
    async () => {
      const body = (await (await fetch(`${k.url}/v1/trades?symbol=BTCUSDT&limit=1`)).json()) as {
        data?: unknown[];
      };
      return (body.data?.length ?? 0) > 0;
    },
    10_000,
    "a stored trade",
  );
  const res = await fetch(`${k.url}/page/live?symbol=BTCUSDT`);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = "";
  let done = false;
  const reading = (async () => {
    const d = new TextDecoder();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += d.decode(r.value, { stream: true });
    }
    done = true;
  })();
  await Bun.sleep(3_000);
  expect(text).toContain("event: trades");
  expect(text.includes("event: end")).toBe(false); // no cut after 2 s any more
  expect(done).toBe(false);

  const { code, ms } = await k.stop();
  await Promise.race([reading, Bun.sleep(2_000)]);
  expect(code).toBe(0);
  expect(ms).toBeLessThan(2_000); // not the grace period (8 s): nothing waited on the stream
  expect(done).toBe(true);
  expect(text).toMatch(/event: end\ndata: \{"after":\d+\}\n\n$/);
}, 30_000);
