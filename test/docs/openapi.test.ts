/**
 * Issue 16, defect 6 (the spec part): every operation in /docs/json documents its responses with
 * schemas, every /v1 query parameter a route accepts is listed, and POST /v1/ohlcv/batch has a
 * body schema. The documented parameters are checked against what the routes really accept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TABLE_COLUMNS } from "../../src/model/tables.ts";
import { type Harness, harness } from "../query/setup.ts";

interface Op {
  parameters?: { name: string; in: string; required: boolean; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses?: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}
let h: Harness;
let paths: Record<string, Record<string, Op>>;
beforeAll(async () => {
  h = await harness();
  paths = ((await (await h.get("/docs/json")).json()) as { paths: typeof paths }).paths;
});
afterAll(() => h.close());

describe("the OpenAPI spec documents every response and body", () => {
  test("every operation has a success response with a content schema", () => {
    const ops = Object.entries(paths).flatMap(([p, methods]) =>
      Object.entries(methods).map(([m, op]) => [`${m} ${p}`, op] as const),
    );
    const api = ops.filter(([name]) => !name.includes(" /docs"));
    expect(api.length).toBeGreaterThanOrEqual(14);
    for (const [name, op] of api) {
      const ok = op.responses?.["200"];
      expect([name, typeof ok?.description]).toEqual([name, "string"]);
      const schemas = Object.values(ok?.content ?? {}).map((c) => c.schema);
      expect([name, schemas.length > 0 && schemas.every((s) => s !== undefined)]).toEqual([name, true]);
    }
  });

  test("OpenAPI 3.1 wording: null is a type, not `nullable`", async () => {
    const text = await (await h.get("/docs/json")).text();
    expect(text).toContain('"openapi":"3.1');
    expect(text).not.toContain('"nullable"');
    const trades = paths["/v1/trades"]?.get?.responses?.["200"]?.content?.["application/json"]?.schema as {
      properties: { data: { items: { properties: Record<string, { type: unknown }> } } };
    };
    expect(trades.properties.data.items.properties.price?.type).toEqual(["string", "null"]);
  });

  test("/v1 operations document the error body", () => {
    for (const [p, methods] of Object.entries(paths)) {
      if (!p.startsWith("/v1/")) continue;
      for (const op of Object.values(methods)) {
        const schema = op.responses?.["400"]?.content?.["application/json"]?.schema as {
          properties?: object;
        };
        expect([p, Object.keys(schema?.properties ?? {})]).toEqual([p, ["error"]]);
      }
    }
  });

  test("POST /v1/ohlcv/batch has a body schema with its fields", () => {
    const body = paths["/v1/ohlcv/batch"]?.post?.requestBody?.content["application/json"]?.schema as {
      required: string[];
      properties: {
        queries: { maxItems: number; items: { required: string[]; properties: Record<string, unknown> } };
      };
    };
    expect(body.required).toEqual(["queries"]);
    expect(body.properties.queries.maxItems).toBe(10);
    expect(body.properties.queries.items.required).toEqual(["symbol", "interval"]);
    expect(Object.keys(body.properties.queries.items.properties)).toContain("fill");
  });

  test("documented query parameters are exactly the accepted ones (enums listed)", async () => {
    const cases: [string, string, string][] = [
      ["/v1/trades", "/v1/trades?symbol=BTCUSDT&limit=1", "order"],
      ["/v1/ohlcv", "/v1/ohlcv?symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02", "interval"],
      [
        "/v1/replay",
        "/v1/replay?table=trades&symbol=BTCUSDT&start=2024-01-01&end=2024-01-01T00:00:01",
        "table",
      ],
      ["/v1/summary/{symbol}", "/v1/summary/BTCUSDT?date=2024-01-01", "format"],
    ];
    for (const [p, base, enumName] of cases) {
      const params = paths[p]?.get?.parameters ?? [];
      const enumParam = params.find((x) => x.name === enumName);
      expect([p, Array.isArray(enumParam?.schema?.enum)]).toEqual([p, true]);
      // Every documented query parameter is accepted (no "unknown parameter" 400)…
      for (const q of params.filter((x) => x.in === "query")) {
        const r = await h.get(`${base}&${q.name}=%%`);
        const e = ((await r.json()) as { error?: { message: string } }).error;
        expect([p, q.name, e?.message.includes("unknown parameter") ?? false]).toEqual([p, q.name, false]);
      }
      // …and an undocumented one is refused.
      expect((await h.get(`${base}&undocumented=1`)).status).toBe(400);
    }
  });
});

test("GET /v1/book/deltas is documented with the stored columns of book_deltas", () => {
  const op = paths["/v1/book/deltas"]?.get;
  const schema = op?.responses?.["200"]?.content?.["application/json"]?.schema as {
    properties: { data: { items: { properties: Record<string, unknown> } } };
  };
  const props = Object.keys(schema.properties.data.items.properties).filter((k) => !k.endsWith("_iso"));
  expect(props).toEqual(TABLE_COLUMNS.book_deltas.map((c) => c.name));
  expect(op?.parameters?.map((p) => p.name)).toEqual([
    "symbol",
    "start",
    "end",
    "limit",
    "cursor",
    "order",
    "format",
  ]);
});
