import { describe, expect, test } from "bun:test";
import { errorLine, runQueryCli } from "./query.ts";

const NOW = Date.UTC(2024, 0, 2, 12);

describe("runQueryCli", () => {
  const io = (respond: (r: Request) => Response | Promise<Response>) => {
    const out: Uint8Array[] = [];
    const err: string[] = [];
    const seen: Request[] = [];
    return {
      out,
      err,
      seen,
      io: {
        env: {},
        nowMs: () => NOW,
        write: (b: Uint8Array) => {
          out.push(b);
        },
        error: (l: string) => err.push(l),
        fetch: async (r: Request) => {
          seen.push(r);
          return respond(r);
        },
      },
    };
  };

  test("2xx: the body byte for byte on stdout, exit 0; the key travels as X-API-Key", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const t = io(() => new Response(bytes, { status: 200 }));
    expect(await runQueryCli(["symbols", "--format", "parquet", "--api-key", "a".repeat(16)], t.io)).toBe(0);
    expect(Buffer.concat(t.out)).toEqual(Buffer.from(bytes));
    expect(t.seen[0]!.headers.get("x-api-key")).toBe("a".repeat(16));
    expect(t.err).toEqual([]);
  });

  test("HTTP error: the server's message on stderr, exit 1, nothing on stdout", async () => {
    const body = { error: { code: "unknown_symbol", message: "unknown symbol XYZUSDT", request_id: "r1" } };
    const t = io(() => Response.json(body, { status: 404 }));
    expect(await runQueryCli(["trades", "--symbol", "XYZUSDT"], t.io)).toBe(1);
    expect(t.err).toEqual(["k2 query: HTTP 404 unknown_symbol: unknown symbol XYZUSDT"]);
    expect(t.out).toEqual([]);
    expect(errorLine(502, "bad gateway\nmore")).toBe("k2 query: HTTP 502: bad gateway");
  });

  test("bad arguments exit 2 without a request; unreachable server exits 1", async () => {
    const t = io(() => new Response("never"));
    expect(await runQueryCli(["trades"], t.io)).toBe(2);
    expect(t.seen).toEqual([]);
    expect(t.err).toEqual(["k2 query: trades: --symbol is required"]);
    const u = io(() => {
      throw new TypeError("connect ECONNREFUSED");
    });
    expect(await runQueryCli(["symbols"], u.io)).toBe(1);
    expect(u.err[0]).toBe("k2 query: could not reach http://127.0.0.1:8000: connect ECONNREFUSED");
  });
});
