/**
 * `k2 query` end to end: a real K2 process ingesting from its embedded simulator (K2_SOURCE=sim,
 * API keys on), queried by the CLI as users run it (`bun run src/main.ts query ...` in a child).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parquetReadObjects } from "hyparquet";
import { type K2Process, ROOT, startK2 } from "../support/k2-process.ts";

const KEY = "cli-test-key-0123456789";
let k2: K2Process;

/** Run the CLI in a child process; `--url` points at the test server unless given. */
async function cli(...args: string[]) {
  const url = args.includes("--url") ? [] : ["--url", k2.url];
  const proc = Bun.spawn([process.execPath, "run", "src/main.ts", "query", ...args, ...url], {
    cwd: ROOT,
    env: { ...process.env, K2_API_KEY: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).text(),
  ]);
  const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => null)]);
  if (code === null) proc.kill("SIGKILL");
  return { code, stdout: Buffer.from(stdout), stderr };
}

beforeAll(async () => {
  k2 = await startK2({ K2_SIM_RATE: "50", K2_SYMBOLS: "BTCUSDT,ETHUSDT", K2_API_KEYS: KEY });
  // Wait until the simulator's trades are queryable.
  const deadline = performance.now() + 10_000;
  for (;;) {
    const r = await fetch(`${k2.url}/v1/trades?symbol=BTCUSDT&limit=50`, { headers: { "x-api-key": KEY } });
    if (r.ok && ((await r.json()) as { data: unknown[] }).data.length >= 50) break;
    if (performance.now() > deadline) throw new Error("no BTCUSDT trades within 10 s");
    await Bun.sleep(100);
  }
}, 20_000);
afterAll(async () => {
  await k2?.stop();
  k2?.cleanup();
});

describe("k2 query against a running K2", () => {
  test("trades --since 1h --format csv prints the server's CSV, rows equal the JSON API's", async () => {
    const r = await cli(
      "trades",
      "--symbol",
      "BTCUSDT",
      "--since",
      "1h",
      "--format",
      "csv",
      "--limit",
      "40",
      "--max-rows",
      "40",
      "--api-key",
      KEY,
    );
    // The simulator keeps trading: there is always more, and stderr says where to go on from.
    expect(r.stderr).toMatch(/^k2 query: stopped at --max-rows 40; more rows follow: add --cursor \S+\n$/);
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().trim().split(/\r?\n/);
    const header = lines[0]!.split(",");
    expect(header).toContain("trade_id");
    expect(header).toContain("price");
    expect(lines.length).toBe(41);
    const idCol = header.indexOf("trade_id");
    const ids = lines.slice(1).map((l) => Number(l.split(",")[idCol]));
    const json = (await (
      await fetch(`${k2.url}/v1/trades?symbol=BTCUSDT&limit=40&start=${Date.now() - 3_600_000}`, {
        headers: { "x-api-key": KEY },
      })
    ).json()) as { data: { trade_id: number }[] };
    expect(ids).toEqual(json.data.map((d) => d.trade_id));
  }, 20_000);

  test("ohlcv, summary, symbols, gaps and parquet output", async () => {
    const o = await cli(
      "ohlcv",
      "--symbol",
      "BTCUSDT",
      "--interval",
      "1s",
      "--since",
      "1h",
      "--api-key",
      KEY,
    );
    expect(o.code).toBe(0);
    const candles = JSON.parse(o.stdout.toString()) as { data: { trade_count: number; open: string }[] };
    expect(candles.data.length).toBeGreaterThan(0);
    expect(candles.data.every((c) => c.trade_count > 0 && /^\d+\.\d{8}$/.test(c.open))).toBe(true);

    const s = await cli("summary", "--symbol", "BTCUSDT", "--format", "ndjson", "--api-key", KEY);
    expect(s.code).toBe(0);
    expect((JSON.parse(s.stdout.toString().split("\n")[0]!) as { symbol: string }).symbol).toBe("BTCUSDT");

    const sy = await cli("symbols", "--api-key", KEY);
    const tables = (JSON.parse(sy.stdout.toString()) as { data: { table: string; symbol: string }[] }).data;
    expect(tables.some((t) => t.table === "trades" && t.symbol === "ETHUSDT")).toBe(true);

    const g = await cli("gaps", "--symbol", "BTCUSDT", "--api-key", KEY);
    expect(g.code).toBe(0);
    expect(Array.isArray((JSON.parse(g.stdout.toString()) as { data: unknown[] }).data)).toBe(true);

    const p = await cli(
      "agg-trades",
      "--symbol",
      "BTCUSDT",
      "--limit",
      "5",
      "--format",
      "parquet",
      "--api-key",
      KEY,
    );
    expect(p.code).toBe(0);
    expect(p.stdout.subarray(0, 4).toString()).toBe("PAR1");
    const ab = p.stdout.buffer.slice(p.stdout.byteOffset, p.stdout.byteOffset + p.stdout.byteLength);
    const rows = (await parquetReadObjects({ file: ab as ArrayBuffer })) as { agg_trade_id: unknown }[];
    expect(rows.length).toBe(5);
  }, 20_000);

  test("HTTP errors: the server's message on stderr, exit 1", async () => {
    const noKey = await cli("trades", "--symbol", "BTCUSDT");
    expect(noKey.code).toBe(1);
    expect(noKey.stdout.length).toBe(0);
    expect(noKey.stderr).toMatch(/^k2 query: HTTP 401 unauthorized: missing X-API-Key header$/m);

    const unknown = await cli("trades", "--symbol", "XYZUSDT", "--api-key", KEY);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/k2 query: HTTP 404 unknown_symbol: unknown symbol XYZUSDT/);

    // A range the CLI does not check (each time alone is fine): the server's 400, exit 1.
    const badRange = await cli(
      "trades",
      "--symbol",
      "BTCUSDT",
      "--start",
      "2024-01-02",
      "--end",
      "2024-01-01",
      "--api-key",
      KEY,
    );
    expect(badRange.code).toBe(1);
    expect(badRange.stderr).toMatch(/HTTP 400 invalid_parameter: end: must be after start/);
    // An impossible date is caught before any request: exit 2, the same sentence the API gives.
    const badTime = await cli("trades", "--symbol", "BTCUSDT", "--start", "2024-02-30", "--api-key", KEY);
    expect([badTime.code, badTime.stderr]).toEqual([
      2,
      'k2 query: --start: "2024-02-30" is not a calendar date (February 2024 has 29 days)\n',
    ]);
  }, 20_000);

  test("bad arguments: one line on stderr, exit 2, no request", async () => {
    const r = await cli("trades", "--symbol", "BTCUSDT", "--limit", "many");
    expect(r.code).toBe(2);
    expect(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("k2 query:")),
    ).toEqual(['k2 query: --limit: expected a whole number from 1 to 10000, got "many"']);
    expect(r.stdout.length).toBe(0);
  }, 20_000);
});
