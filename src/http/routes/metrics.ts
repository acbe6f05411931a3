import { Elysia } from "elysia";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../../obs/metrics.ts";

/** `gate` (when K2 listens off loopback) throws 401 unless the request carries an API key. */
export function metricsRoutes(registry: Registry, gate?: (req: Request) => void) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    ({ request }) => {
      gate?.(request);
      return new Response(registry.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
    },
    {
      detail: {
        summary: "Prometheus metrics",
        responses: {
          "200": {
            description: "Prometheus text exposition format 0.0.4",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          "401": { description: "off loopback without K2_METRICS_PUBLIC=true: X-API-Key missing or unknown" },
        },
      },
    },
  );
}
