/**
 * With K2_SOURCE=sim (make demo) a completeness certificate asks the embedded simulator's archive,
 * never the real archive host: the demo certifies its own market and sends nothing off loopback.
 * (Until 2026-12-05 it asked K2_ARCHIVE_URL's default, data.binance.vision.)
 */
import { afterEach, expect, test } from "bun:test";
import { type K2Process, startK2 } from "../support/k2-process.ts";

let k2: K2Process | undefined;
afterEach(async () => {
  await k2?.stop();
  k2?.cleanup();
  k2 = undefined;
});

test("a K2_SOURCE=sim certificate consults the simulator's archive on loopback", async () => {
  k2 = await startK2({ K2_SYMBOLS: "BTCUSDT" });
  const date = new Date().toISOString().slice(0, 10);
  const res = await fetch(`${k2.url}/v1/completeness?symbol=BTCUSDT&date=${date}`);
  expect(res.status).toBe(200);
  const cert = (await res.json()) as { archive: { url?: string } | null };
  const asked = cert.archive?.url ?? "";
  expect(new URL(asked).hostname).toBe("127.0.0.1");
  expect(asked).toContain(`/archive/data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-${date}.zip`);
  expect(JSON.stringify(cert)).not.toContain("binance.vision");
});
