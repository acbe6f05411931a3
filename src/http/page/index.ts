/**
 * The live page at `/` and the API reference at `/docs`, served by K2 itself from files in this
 * folder and npm packages (no CDN, no build step). The page reads /v1 for history and
 * /page/live (SSE) for what happens next; both follow the API keys of /v1.
 */
import { Elysia } from "elysia";
import type { BookApi } from "../../book/api.ts";
import type { Registry } from "../../obs/metrics.ts";
import type { QueryEngine } from "../../query/engine.ts";
import type { Readiness } from "../../resilience/readiness.ts";
import { DEFAULT_GUARD_OPTIONS, Guard, type GuardOptions } from "../routes/v1/guard.ts";
import type { LoadView } from "../routes/v1/shed.ts";
import { assetRoutes } from "./assets.ts";
import { liveRoutes } from "./live.ts";
import { StatusProbe } from "./status.ts";

export { PAGE_FILES } from "./assets.ts";
export { acceptLiveStreams, endLiveStreams } from "./live.ts";

export interface PageDeps {
  readonly registry: Registry;
  readonly readiness: Readiness;
  readonly engine?: QueryEngine;
  readonly api?: Partial<GuardOptions>;
  readonly load?: LoadView;
  /** Order books; absent: K2 keeps none (K2_STREAMS without depth) and the page hides its panel. */
  readonly books?: BookApi;
}

export function pageRoutes(deps: PageDeps) {
  const app = new Elysia({ name: "page" }).use(assetRoutes());
  if (!deps.engine) return app;
  const engine = deps.engine;
  const status = new StatusProbe({ ...deps, engine });
  // Its own buckets: a page's one long stream never spends a /v1 caller's rate limit.
  const guard = new Guard({ ...DEFAULT_GUARD_OPTIONS, ...deps.api });
  return app.use(
    liveRoutes({
      engine,
      guard,
      status,
      ...(deps.load ? { load: deps.load } : {}),
      ...(deps.books ? { books: deps.books } : {}),
    }),
  );
}
