import { Elysia } from "elysia";
import type { Readiness } from "../../resilience/readiness.ts";

const json = (description: string, properties: Record<string, unknown>) => ({
  description,
  content: { "application/json": { schema: { type: "object", properties } as Record<string, unknown> } },
});
const CHECKS = {
  type: "object",
  additionalProperties: { type: "object" },
  description: "each stage's check",
};

/**
 * /health/live: the process answers. /health/ready: every stage's check passes, else 503 + reasons.
 * /health itself points at both, so a guess at the obvious URL is answered rather than 404.
 */
export function healthRoutes(readiness: Readiness) {
  return new Elysia({ name: "health" })
    .get("/health", () => ({ status: "live", live: "/health/live", ready: "/health/ready" }), {
      detail: {
        summary: "process is up; links to the liveness and readiness probes",
        responses: {
          "200": json("up", {
            status: { type: "string" },
            live: { type: "string" },
            ready: { type: "string" },
          }),
        },
      },
    })
    .get("/health/live", () => ({ status: "live" }), {
      detail: { summary: "process is up", responses: { "200": json("up", { status: { type: "string" } }) } },
    })
    .get(
      "/health/ready",
      ({ set }) => {
        const r = readiness.report();
        set.status = r.ready ? 200 : 503;
        return { status: r.ready ? "ready" : "not_ready", checks: r.checks };
      },
      {
        detail: {
          summary: "ready to ingest and serve (503 with reasons when not)",
          responses: {
            "200": json("ready", { status: { type: "string", enum: ["ready"] }, checks: CHECKS }),
            "503": json("not ready, with each failing check's reason", {
              status: { type: "string", enum: ["not_ready"] },
              checks: CHECKS,
            }),
          },
        },
      },
    );
}
