/**
 * Admin HTTP API on the simulator's own port (not part of Binance's protocol):
 *   GET  /admin/faults        current switches (+ refuseRemainingMs)
 *   POST /admin/faults        JSON FaultPatch: switches and one-shot actions; 400 with a reason if invalid
 *   GET  /admin/ground-truth  generated / withheld / missing-at-source id ranges per symbol
 *   GET  /admin/book?symbol=S&updateId=N|timeUs=T|publishedUs=T[&levels=L]  book mode: the true book (bookAt)
 *   GET  /admin/stats         counters
 *   GET  /admin/rest-log      every REST request answered: time, path, weight, status, Retry-After, verdict
 *   GET  /admin/archive       archived days and the archive files' current faults
 */
import type { SimEngine } from "./server.ts";

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

/** Non-negative integer query parameter: undefined when absent, NaN when malformed. */
function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return /^[0-9]{1,16}$/.test(v) ? Number(v) : Number.NaN;
}

function book(q: URLSearchParams, engine: SimEngine): Response {
  const symbol = q.get("symbol") ?? "";
  const updateId = intParam(q, "updateId");
  const timeUs = intParam(q, "timeUs");
  const publishedUs = intParam(q, "publishedUs");
  const levels = intParam(q, "levels");
  const given = [updateId, timeUs, publishedUs].filter((v) => v !== undefined);
  if (given.length !== 1)
    return json(
      { error: "expected symbol and exactly one of updateId, timeUs, publishedUs (integers)" },
      400,
    );
  if (given.some(Number.isNaN) || Number.isNaN(levels))
    return json({ error: "updateId, timeUs, publishedUs and levels: expected non-negative integers" }, 400);
  const at =
    updateId !== undefined ? { updateId } : timeUs !== undefined ? { timeUs } : { publishedUs: publishedUs! };
  const b = engine.bookAt(symbol, at, levels);
  if (b) return json(b);
  const range = engine.bookSummary(symbol);
  return json(
    { error: range ? "outside the book truth kept" : `no book for symbol '${symbol}'`, range },
    404,
  );
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
    case "GET /admin/book":
      return book(url.searchParams, engine);
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
