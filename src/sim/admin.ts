/**
 * Admin HTTP API on the simulator's own port (not part of Binance's protocol):
 *   GET  /admin/faults        current switches (+ refuseRemainingMs)
 *   POST /admin/faults        JSON FaultPatch: switches and one-shot actions; 400 with a reason if invalid
 *   GET  /admin/ground-truth  generated / withheld / missing-at-source id ranges per symbol
 *   GET  /admin/stats         counters
 *   GET  /admin/rest-log      every REST request answered: time, path, weight, status, Retry-After, verdict
 *   GET  /admin/archive       archived days and the archive files' current faults
 */
import type { SimEngine } from "./server.ts";

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

export async function handleAdmin(url: URL, req: Request, engine: SimEngine): Promise<Response> {
  switch (`${req.method} ${url.pathname}`) {
    case "GET /admin/faults":
      return json(engine.faultState());
    case "POST /admin/faults": {
      let patch: unknown;
      try {
        patch = await req.json();
      } catch {
        return json({ error: "body: expected JSON" }, 400);
      }
      const err = engine.applyFaults(patch);
      return err ? json({ error: err }, 400) : json(engine.faultState());
    }
    case "GET /admin/ground-truth":
      return json(engine.groundTruth());
    case "GET /admin/stats":
      return json(engine.statsSnapshot());
    case "GET /admin/archive":
      return json({ dates: engine.archiveStore?.dates() ?? [], faults: engine.archive.faultList() });
    case "GET /admin/rest-log":
      return json({ entries: engine.restLog.snapshot(), dropped: engine.restLog.dropped });
    default:
      return json({ error: `unknown admin route ${req.method} ${url.pathname}` }, 404);
  }
}
