/** /v1/completeness: parse, certify (src/completeness/certificate.ts), serialize as JSON. */
import { Elysia } from "elysia";
import type { V1Context } from "./context.ts";
import { COMPLETENESS_DOC } from "./openapi.ts";
import { COMPLETENESS_PARAMS, call, parseQuery } from "./params.ts";

export const completenessRoutes = (ctx: V1Context) => {
  const certify = ctx.certify;
  const app = new Elysia({ name: "v1-completeness" });
  if (!certify) return app; // a process without a data folder of its own (no ingest) certifies nothing
  return app.get(
    "/completeness",
    ({ request }) =>
      call(async () => {
        const q = parseQuery(request, COMPLETENESS_PARAMS, "/v1/completeness");
        ctx.engine.checkSymbol(q.symbol);
        return Response.json(await certify(q.table ?? "trades", q.symbol, q.date, q.spot_checks ?? 0));
      }),
    { detail: COMPLETENESS_DOC },
  );
};
