import { Elysia } from "elysia";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../../obs/metrics.ts";

export function metricsRoutes(registry: Registry) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    () => new Response(registry.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } }),
    {
      detail: {
        summary: "Prometheus metrics",
        responses: {
          "200": {
            description: "Prometheus text exposition format 0.0.4",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
      },
    },
  );
}
