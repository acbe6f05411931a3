/**
 * `k2 query`: parse the arguments, make the request, write the body to stdout (Parquet and msgpack
 * byte for byte; JSON, CSV and NDJSON pages joined while following next_cursor, see pages.ts).
 * Exit 0 on 2xx; 1 with the server's error message (or the connection failure) on stderr; 2 with
 * one line on stderr for bad arguments.
 */
import { CliArgError, parseQueryArgs, type QueryRequest } from "./args.ts";
import { FOLLOW_PAGE_ROWS, JOINABLE, JsonJoin, moreLine, pageRows, pageUrl } from "./pages.ts";

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  write(bytes: Uint8Array): void | Promise<void>;
  error(line: string): void;
  readonly fetch?: (req: Request) => Promise<Response>;
  readonly nowMs?: () => number;
}

/** The server's `{error: {code, message}}` as one line; the raw text when it is not that shape. */
export function errorLine(status: number, body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    if (e?.message) return `k2 query: HTTP ${status} ${e.code ?? ""}: ${e.message}`.replace(" :", ":");
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = body.trim().split("\n")[0]?.slice(0, 300) ?? "";
  return `k2 query: HTTP ${status}${text ? `: ${text}` : ""}`;
}

export async function runQueryCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseQueryArgs>;
  try {
    parsed = parseQueryArgs(argv, io.env, io.nowMs?.() ?? Date.now());
  } catch (e) {
    if (!(e instanceof CliArgError)) throw e;
    io.error(`k2 query: ${e.message}`);
    return 2;
  }
  if (parsed.kind === "help") {
    await io.write(new TextEncoder().encode(`${parsed.text}\n`));
    return 0;
  }
  const req = parsed.request;
  if (!req.pages || !JOINABLE.has(req.format)) {
    const res = await get(req, req.url, io);
    if (!(res instanceof Response)) return res;
    await io.write(new Uint8Array(await res.arrayBuffer()));
    const next = res.headers.get("x-next-cursor");
    if (req.pages && next) io.error(moreLine(next));
    return 0;
  }
  return follow(req, io);
}

/** One GET; a failure is reported on stderr and becomes the exit code. */
async function get(req: QueryRequest, url: string, io: CliIo): Promise<Response | number> {
  const doFetch = io.fetch ?? ((r: Request) => fetch(r));
  let res: Response;
  try {
    res = await doFetch(
      new Request(url, { headers: req.headers, signal: AbortSignal.timeout(req.timeoutMs) }),
    );
  } catch (e) {
    const why =
      (e as Error).name === "TimeoutError" ? `no answer within ${req.timeoutMs} ms` : (e as Error).message;
    io.error(`k2 query: could not reach ${new URL(url).origin}: ${why}`);
    return 1;
  }
  if (!res.ok) {
    io.error(errorLine(res.status, await res.text()));
    return 1;
  }
  return res;
}

/** Page through next_cursor until the end or --max-rows; stderr says where to go on from. */
async function follow(req: QueryRequest, io: CliIo): Promise<number> {
  const json = req.format === "json" ? new JsonJoin() : undefined;
  const page = req.pageRows ?? FOLLOW_PAGE_ROWS;
  let rows = 0;
  let cursor: string | null = null;
  for (let first = true; ; first = false) {
    const res = await get(
      req,
      pageUrl(req.url, first ? null : cursor, Math.min(page, req.maxRows - rows)),
      io,
    );
    if (!(res instanceof Response)) return res;
    const body = await res.text();
    cursor = res.headers.get("x-next-cursor");
    if (json) rows += json.add(body);
    else {
      const p = pageRows(req.format, body, first);
      rows += p.rows;
      if (p.text !== "") await io.write(new TextEncoder().encode(p.text));
    }
    if (cursor === null) break;
    if (rows >= req.maxRows) {
      io.error(moreLine(cursor, req.maxRows));
      break;
    }
  }
  if (json) await io.write(new TextEncoder().encode(json.text()));
  return 0;
}

/** Entry from src/main.ts: real stdout/stderr, env for K2_API_KEY. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  return runQueryCli(argv, {
    env,
    write: async (b) => {
      await Bun.write(Bun.stdout, b);
    },
    error: (line) => console.error(line),
  });
}
