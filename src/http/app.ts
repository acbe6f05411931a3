/**
 * createApp(deps): the thin Elysia shell. Route groups live one per file; handlers parse, call,
 * serialize. Every response carries X-Request-Id (echoed when the client sent a sane one).
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import type { Logger } from "../obs/logger.ts";
import type { Registry } from "../obs/metrics.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { Readiness } from "../resilience/readiness.ts";
import { mapError } from "./errors.ts";
import { MethodIndex } from "./methods.ts";
import { pageRoutes } from "./page/index.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import type { V1Context } from "./routes/v1/context.ts";
import { keyGate } from "./routes/v1/guard.ts";
import type { LoadView } from "./routes/v1/shed.ts";
import { type ApiOptions, v1Routes } from "./routes/v1.ts";

export interface AppDeps {
  readonly registry: Registry;
  readonly readiness: Readiness;
  readonly logger: Logger;
  readonly version: string;
  /** The query engine behind /v1; without it only health, metrics and docs are served. */
  readonly engine?: QueryEngine;
  readonly api?: Partial<ApiOptions>;
  /** The degradation level; high levels shed /v1 queries (routes/v1/shed.ts). */
  readonly load?: LoadView;
  /** Certificates for /v1/completeness (src/completeness/); absent: the route is not served. */
  readonly certify?: V1Context["certify"];
  /** Order books for /v1/book (src/book/); absent: the route is not served. */
  readonly books?: V1Context["books"];
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
let counter = 0;

function requestIdFor(req: Request): string {
  const given = req.headers.get("x-request-id");
  if (given && REQUEST_ID_RE.test(given)) return given;
  counter = (counter + 1) % 1_000_000_000;
  return `${Date.now().toString(36)}-${counter.toString(36)}`;
}

export function createApp(deps: AppDeps) {
  const log = deps.logger;
  const requests = deps.registry.counter("k2_http_requests_total", "HTTP requests by status class");
  const byClass = [1, 2, 3, 4, 5].map((c) => requests.with({ status: `${c}xx` }));
  // Read at request time: /v1 and any plugin added by the caller are in the list by then.
  const methods = new MethodIndex(() => app.routes);
  const app = new Elysia()
    .derive({ as: "global" }, ({ request, set }) => {
      const requestId = requestIdFor(request);
      set.headers["x-request-id"] = requestId;
      return { requestId };
    })
    .onAfterResponse({ as: "global" }, ({ set }) => {
      const status = typeof set.status === "number" ? set.status : 200;
      byClass[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]?.inc();
    })
    .onError({ as: "global" }, ({ code, error, request, set }) => {
      const requestId = (set.headers["x-request-id"] as string | undefined) ?? requestIdFor(request);
      const path = new URL(request.url).pathname;
      let allow = code === "NOT_FOUND" ? methods.allowed(path) : [];
      // Served for this very method yet not routed: Elysia misread the URL (it assumes 11+
      // characters before the path, so a Host such as "k2" breaks routing). A 404, not a 405.
      if (allow.includes(request.method)) allow = [];
      // OPTIONS on a served path (outside /v1, whose gate answers CORS preflights): what is allowed.
      if (request.method === "OPTIONS" && allow.length > 0)
        return new Response(null, {
          status: 204,
          headers: { allow: allow.join(", "), "x-request-id": requestId },
        });
      const mapped = mapError(code, error, requestId, path, { method: request.method, methods: allow });
      if (mapped.unexpected) log.error({ err: error, request_id: requestId }, "unhandled error");
      if (mapped.status === 405) set.headers.allow = allow.join(", ");
      set.status = mapped.status;
      set.headers["x-request-id"] = requestId;
      set.headers["content-type"] = "application/json";
      return mapped.body;
    })
    .use(
      openapi({
        path: "/docs",
        // The viewer is page/static/docs.html with Swagger UI from node_modules: no CDN at run time.
        provider: null,
        documentation: { info: { title: "K2 market data API", version: deps.version } },
      }),
    )
    .use(healthRoutes(deps.readiness))
    .use(metricsRoutes(deps.registry, deps.api?.metricsNeedKey ? keyGate(deps.api.apiKeys ?? []) : undefined))
    .use(pageRoutes(deps));
  return deps.engine
    ? app.use(
        v1Routes({
          engine: deps.engine,
          registry: deps.registry,
          options: deps.api ?? {},
          ...(deps.load ? { load: deps.load } : {}),
          ...(deps.certify ? { certify: deps.certify } : {}),
          ...(deps.books ? { books: deps.books } : {}),
        }),
      )
    : app;
}

export type App = ReturnType<typeof createApp>;
