import { Elysia } from "elysia";
import type { Readiness } from "../../resilience/readiness.ts";

/** /health/live: the process answers. /health/ready: every stage's check passes, else 503 + reasons. */
export function healthRoutes(readiness: Readiness) {
  return new Elysia({ name: "health" })
    .get("/health/live", () => ({ status: "live" }), { detail: { summary: "process is up" } })
    .get(
      "/health/ready",
      ({ set }) => {
        const r = readiness.report();
        set.status = r.ready ? 200 : 503;
        return { status: r.ready ? "ready" : "not_ready", checks: r.checks };
      },
      { detail: { summary: "ready to ingest and serve (503 with reasons when not)" } },
    );
}
