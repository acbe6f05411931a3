/**
 * How the K2 process serves, beyond what the app's own tests see: the client's address reaches
 * the rate limiter (each anonymous address has its own bucket), and /metrics follows the API keys
 * once K2 listens off loopback (the mapping from K2's keys to the API's options).
 */
import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/index.ts";
import { apiOptionsOf } from "../../src/http/index.ts";
import { statusFrom } from "../support/from-address.ts";
import { startK2 } from "../support/k2-process.ts";

test("K2's server passes the client address on: one anonymous address's limit leaves another's alone", async () => {
  const k2 = await startK2({ K2_RATE_LIMIT_PER_S: "1", K2_RATE_LIMIT_BURST: "2" });
  try {
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await statusFrom(k2.url, "/v1/symbols", "127.0.0.2"));
    expect(a.slice(0, 2)).toEqual([200, 200]);
    expect(a.at(-1)).toBe(429);
    expect(await statusFrom(k2.url, "/v1/symbols", "127.0.0.3")).toBe(200);
    expect((await k2.stop()).code).toBe(0);
  } finally {
    k2.cleanup();
  }
});

test("off loopback /metrics needs a key unless K2_METRICS_PUBLIC=true; on loopback it is open", () => {
  const opts = (env: Record<string, string>) => {
    const r = loadConfig([], { K2_API_KEYS: "k".repeat(24), ...env });
    if (r.kind !== "config") throw new Error("config expected");
    return apiOptionsOf(r.config);
  };
  expect(opts({ K2_HOST: "0.0.0.0" }).metricsNeedKey).toBe(true);
  expect(opts({ K2_HOST: "0.0.0.0", K2_METRICS_PUBLIC: "true" }).metricsNeedKey).toBe(false);
  expect(opts({ K2_HOST: "127.0.0.1" }).metricsNeedKey).toBe(false);
});
