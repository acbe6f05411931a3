import { describe, expect, test } from "bun:test";
import type { Elysia } from "elysia";
import pino from "pino";
import { parsePrometheus, sample } from "../../test/support/prometheus.ts";
import { Registry } from "../obs/metrics.ts";
import { Readiness } from "../resilience/readiness.ts";
import { type AppDeps, createApp } from "./app.ts";
import { HttpError } from "./errors.ts";
import { metricsNeedKey } from "./routes/v1/guard.ts";

function setup(ready = true, api: AppDeps["api"] = undefined) {
  const registry = new Registry();
  const readiness = new Readiness();
  let ok = ready;
  readiness.register("data_dir", () => (ok ? { ok: true } : { ok: false, reason: "data dir not writable" }));
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(s) });
  const app = createApp({ registry, readiness, logger, version: "test", ...(api ? { api } : {}) })
    .get("/boom", () => {
      throw new Error("kaboom internals");
    })
    .get("/teapot", () => {
      throw new HttpError(418, "teapot", "short and stout", "pot");
    });
  return { app, registry, lines, setReady: (v: boolean) => (ok = v) };
}

const get = (app: Elysia, path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers }));

describe("http shell", () => {
  test("/health/live is 200", async () => {
    const { app } = setup();
    const res = await get(app as unknown as Elysia, "/health/live");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "live" });
  });

  test("/health points at the live and ready probes", async () => {
    const { app } = setup();
    const res = await get(app as unknown as Elysia, "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "live", live: "/health/live", ready: "/health/ready" });
  });

  test("/health/ready is 503 with the reason, then 200 when the check passes", async () => {
    const { app, setReady } = setup(false);
    const a = app as unknown as Elysia;
    const res = await get(a, "/health/ready");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; checks: Record<string, { reason?: string }> };
    expect(body.status).toBe("not_ready");
    expect(body.checks.data_dir?.reason).toBe("data dir not writable");
    setReady(true);
    expect((await get(a, "/health/ready")).status).toBe(200);
  });

  test("/metrics renders Prometheus text that parses and counts requests", async () => {
    const { app } = setup();
    const a = app as unknown as Elysia;
    await get(a, "/health/live");
    await get(a, "/nope");
    await Bun.sleep(5); // onAfterResponse runs after the response is handed back
    const res = await get(a, "/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const p = parsePrometheus(await res.text());
    expect(sample(p, "k2_http_requests_total", { status: "2xx" })).toBeGreaterThanOrEqual(1);
    expect(sample(p, "k2_http_requests_total", { status: "4xx" })).toBe(1);
  });

  test("unknown routes are 404 JSON with a request id", async () => {
    const { app } = setup();
    const res = await get(app as unknown as Elysia, "/v9/nothing");
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe("not_found");
    expect(body.error.request_id).toBe(res.headers.get("x-request-id") ?? "missing");
  });

  test("a path served for another method is 405 with Allow, not 404", async () => {
    const { app } = setup();
    const a = app as unknown as Elysia;
    const res = await a.handle(new Request("http://localhost/health/live", { method: "POST" }));
    expect([res.status, res.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({
      code: "method_not_allowed",
      message: "POST is not allowed on /health/live; use GET or HEAD",
    });
    const options = await a.handle(new Request("http://localhost/health/live", { method: "OPTIONS" }));
    expect([options.status, options.headers.get("allow")]).toEqual([204, "GET, HEAD"]);
    const del = await a.handle(new Request("http://localhost/metrics", { method: "DELETE" }));
    expect(del.status).toBe(405);
    expect((await a.handle(new Request("http://localhost/nowhere", { method: "POST" }))).status).toBe(404);
  });

  test("X-Request-Id is echoed when sane and generated otherwise", async () => {
    const { app } = setup();
    const a = app as unknown as Elysia;
    expect((await get(a, "/health/live", { "x-request-id": "abc-123" })).headers.get("x-request-id")).toBe(
      "abc-123",
    );
    const gen = (await get(a, "/health/live", { "x-request-id": "bad id with spaces" })).headers.get(
      "x-request-id",
    );
    expect(gen).toMatch(/^[a-z0-9]+-[a-z0-9]+$/);
    const m = await get(a, "/metrics", { "x-request-id": "metrics-1" });
    expect(m.headers.get("x-request-id")).toBe("metrics-1");
  });

  test("a thrown error is a 500 JSON without internals, logged with the request id", async () => {
    const { app, lines } = setup();
    const res = await get(app as unknown as Elysia, "/boom", { "x-request-id": "req-boom" });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("kaboom");
    expect(JSON.parse(text)).toEqual({
      error: { code: "internal", message: expect.any(String), request_id: "req-boom" },
    });
    expect(lines.some((l) => l.includes("req-boom") && l.includes("kaboom"))).toBe(true);
  });

  test("typed HttpError keeps its status and field", async () => {
    const { app } = setup();
    const res = await get(app as unknown as Elysia, "/teapot");
    expect(res.status).toBe(418);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe("pot");
  });

  test("issue 16, defect 17: off loopback, /metrics follows the API keys unless K2_METRICS_PUBLIC", async () => {
    const key = "metrics-key-0123456789";
    expect([
      metricsNeedKey("0.0.0.0", false),
      metricsNeedKey("0.0.0.0", true),
      metricsNeedKey("127.0.0.1", false),
      metricsNeedKey("::1", false),
    ]).toEqual([true, false, false, false]);
    const gated = setup(true, { apiKeys: [key], metricsNeedKey: true }).app as unknown as Elysia;
    const none = await get(gated, "/metrics");
    expect([none.status, ((await none.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      "unauthorized",
    ]);
    expect((await get(gated, "/metrics", { "x-api-key": `${key}x` })).status).toBe(401);
    const ok = await get(gated, "/metrics", { "x-api-key": key });
    expect([ok.status, (await ok.text()).includes("k2_http_requests_total")]).toEqual([200, true]);
    expect((await get(gated, "/health/live")).status).toBe(200); // probes stay open
    const open = setup(true, { apiKeys: [key], metricsNeedKey: false }).app as unknown as Elysia;
    expect((await get(open, "/metrics")).status).toBe(200);
  });

  test("/docs serves OpenAPI", async () => {
    const { app } = setup();
    const res = await get(app as unknown as Elysia, "/docs/json");
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toContain("/health/ready");
  });
});
