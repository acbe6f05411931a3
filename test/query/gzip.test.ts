/**
 * Row pages gzipped when the client asks: the body inflates to exactly the identity body (cached
 * newest page, its cache hit, a page of stored rows, which takes the same path as recent trades),
 * small bodies and clients that refuse gzip get identity, and every row response says
 * Vary: Accept-Encoding.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildFixture, type Fixture } from "./fixture.ts";
import { makeApp } from "./setup.ts";

let fx: Fixture;
let a: Awaited<ReturnType<typeof makeApp>>;
beforeAll(async () => {
  fx = await buildFixture();
  a = await makeApp(fx, { api: { corsOrigins: ["https://desk.example"] } });
});
afterAll(() => {
  a.engine.close();
  fx.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  a.app.handle(new Request(`http://localhost${path}`, { headers }));
const bytes = async (r: Response) => Buffer.from(await r.arrayBuffer());

describe("gzip when asked", () => {
  test("a gzipped page inflates to the identity page, cached or not", async () => {
    for (const path of [
      "/v1/trades?symbol=BTCUSDT&limit=100&order=desc", // from memory: cached
      "/v1/trades?symbol=BTCUSDT&limit=100&order=desc&format=ndjson",
      "/v1/trades?symbol=BTCUSDT&limit=100", // stored rows: not cached
    ]) {
      const plain = await get(path);
      expect(plain.status).toBe(200);
      expect(plain.headers.get("content-encoding")).toBeNull();
      expect(plain.headers.get("vary")).toBe("Accept-Encoding");
      const want = await bytes(plain);
      expect(want.length).toBeGreaterThan(1024);
      for (let k = 0; k < 2; k++) {
        const z = await get(path, { "accept-encoding": "gzip, deflate, br" });
        expect(z.headers.get("content-encoding")).toBe("gzip");
        expect(z.headers.get("vary")).toBe("Accept-Encoding");
        expect(z.headers.get("content-type")).toBe(plain.headers.get("content-type"));
        expect(z.headers.get("x-meta")).toBe(plain.headers.get("x-meta"));
        const body = await bytes(z);
        expect(body.length).toBeLessThan(want.length / 2);
        expect(Buffer.from(Bun.gunzipSync(body)).equals(want)).toBe(true);
      }
    }
  });

  test("q=0, no header and small bodies get identity; CORS keeps Vary: Origin", async () => {
    const path = "/v1/trades?symbol=BTCUSDT&limit=100&order=desc";
    const want = await bytes(await get(path));
    const refused = await get(path, { "accept-encoding": "gzip;q=0, br" });
    expect(refused.headers.get("content-encoding")).toBeNull();
    expect((await bytes(refused)).equals(want)).toBe(true);
    const small = await get("/v1/trades?symbol=BTCUSDT&limit=1&order=desc&format=csv", {
      "accept-encoding": "gzip",
    });
    expect(small.headers.get("content-encoding")).toBeNull();
    const cors = await get(path, { origin: "https://desk.example", "accept-encoding": "gzip" });
    expect(cors.headers.get("vary")).toBe("Origin, Accept-Encoding");
    expect(Buffer.from(Bun.gunzipSync(await bytes(cors))).equals(want)).toBe(true);
  });
});
