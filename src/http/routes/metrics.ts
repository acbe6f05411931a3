import { Elysia } from "elysia";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../../obs/metrics.ts";

export function metricsRoutes(registry: Registry) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    () => new Response(registry.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } }),
    { detail: { summary: "Prometheus metrics" } },
  );
}
