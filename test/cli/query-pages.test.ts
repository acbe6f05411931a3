/**
 * Issue 16, defect 11: `k2 query` follows next_cursor to the end (bounded by --max-rows), and
 * says on stderr, with the cursor to go on from, when it stops before the end. A real server on
 * 127.0.0.1 over the query fixture's Parquet files; the CLI runs in-process with real fetch.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runQueryCli } from "../../src/cli/query.ts";
import { type Harness, harness } from "../query/setup.ts";

let h: Harness;
let server: ReturnType<typeof Bun.serve>;
let url = "";
/** ~2,000 trades: 20 pages of the server's default 100. */
const RANGE = ["--start", "2024-01-01T00:00:00Z", "--end", "2024-01-01T01:00:00Z"];
let expected: { trade_id: number }[] = [];

beforeAll(async () => {
  h = await harness();
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => h.app.handle(r) });
  url = `http://127.0.0.1:${server.port}`;
  const all = await fetch(
    `${url}/v1/trades?symbol=BTCUSDT&start=2024-01-01T00:00:00Z&end=2024-01-01T01:00:00Z&limit=10000`,
  );
  expected = ((await all.json()) as { data: { trade_id: number }[] }).data;
});
afterAll(() => {
  server.stop(true);
  h.close();
});

async function run(...args: string[]) {
  const out: Uint8Array[] = [];
  const err: string[] = [];
  const code = await runQueryCli([...args, "--url", url], {
    env: {},
    write: (b) => {
      out.push(b);
    },
    error: (l) => err.push(l),
  });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: err };
}

describe("k2 query follows cursors", () => {
  test("the range is larger than one page", () => {
    expect(expected.length).toBeGreaterThan(1000);
    expect(expected.length).toBeLessThan(10_000);
  });

  test("CSV: every row of the range, one header, nothing on stderr", async () => {
    const r = await run("trades", "--symbol", "BTCUSDT", ...RANGE, "--format", "csv");
    expect([r.code, r.stderr]).toEqual([0, []]);
    const [head, ...lines] = r.stdout.trimEnd().split("\r\n");
    expect(head).toStartWith("exchange,symbol,trade_id");
    expect(lines.map((l) => Number(l.split(",")[2]))).toEqual(expected.map((e) => e.trade_id));
  });

  test("JSON: one document with every row; NDJSON: every line", async () => {
    const j = await run("trades", "--symbol", "BTCUSDT", ...RANGE);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout) as {
      data: { trade_id: number }[];
      next_cursor: string | null;
      meta: { count: number };
    };
    expect(doc.data.map((d) => d.trade_id)).toEqual(expected.map((e) => e.trade_id));
    expect([doc.next_cursor, doc.meta.count]).toEqual([null, expected.length]);
    const nd = await run("trades", "--symbol", "BTCUSDT", ...RANGE, "--format", "ndjson", "--limit", "333");
    expect(
      nd.stdout
        .trimEnd()
        .split("\n")
        .map((l) => (JSON.parse(l) as { trade_id: number }).trade_id),
    ).toEqual(expected.map((e) => e.trade_id));
  });

  test("--max-rows stops early and says on stderr how to go on", async () => {
    const r = await run("trades", "--symbol", "BTCUSDT", ...RANGE, "--format", "csv", "--max-rows", "250");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\r\n").slice(1);
    expect(lines.map((l) => Number(l.split(",")[2]))).toEqual(expected.slice(0, 250).map((e) => e.trade_id));
    expect(r.stderr.length).toBe(1);
    expect(r.stderr[0]).toMatch(/^k2 query: stopped at --max-rows 250; more rows follow: add --cursor \S+$/);
    // The cursor goes on from the 251st row.
    const cursor = /--cursor (\S+)$/.exec(r.stderr[0]!)![1]!;
    const next = await run(
      "trades",
      "--symbol",
      "BTCUSDT",
      ...RANGE,
      "--format",
      "csv",
      "--max-rows",
      "5",
      "--cursor",
      cursor,
    );
    expect(
      next.stdout
        .trimEnd()
        .split("\r\n")
        .slice(1)
        .map((l) => Number(l.split(",")[2])),
    ).toEqual(expected.slice(250, 255).map((e) => e.trade_id));
  });

  test("Parquet cannot be joined: one page, and stderr says there is more", async () => {
    const r = await run("trades", "--symbol", "BTCUSDT", ...RANGE, "--format", "parquet");
    expect(r.code).toBe(0);
    expect(r.stderr.length).toBe(1);
    expect(r.stderr[0]).toMatch(/more rows follow: add --cursor \S+/);
  });
});
