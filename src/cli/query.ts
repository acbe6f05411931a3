/**
 * `k2 query`: parse the arguments, make one request, write the body to stdout byte for byte (CSV,
 * Parquet and msgpack pass through unchanged). Exit 0 on 2xx; 1 with the server's error message
 * (or the connection failure) on stderr; 2 with one line on stderr for bad arguments.
 */
import { CliArgError, parseQueryArgs } from "./args.ts";

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
  const { url, headers, timeoutMs } = parsed.request;
  const doFetch = io.fetch ?? ((r: Request) => fetch(r));
  let res: Response;
  try {
    res = await doFetch(new Request(url, { headers, signal: AbortSignal.timeout(timeoutMs) }));
  } catch (e) {
    const why =
      (e as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e as Error).message;
    io.error(`k2 query: could not reach ${new URL(url).origin}: ${why}`);
    return 1;
  }
  if (!res.ok) {
    io.error(errorLine(res.status, await res.text()));
    return 1;
  }
  await io.write(new Uint8Array(await res.arrayBuffer()));
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
