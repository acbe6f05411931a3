/**
 * /docs and / work with no network: their HTML names no host but K2's own, and every file it
 * references (scripts, styles, the spec) is served by K2 with 200 and the right type.
 */
import { describe, expect, test } from "bun:test";
import pino from "pino";
import { createApp } from "../../src/http/app.ts";
import { Registry } from "../../src/obs/metrics.ts";
import { Readiness } from "../../src/resilience/readiness.ts";

const app = createApp({
  registry: new Registry(),
  readiness: new Readiness(),
  logger: pino({ level: "silent" }),
  version: "test",
});
const get = (path: string) => app.handle(new Request(`http://localhost${path}`));

/** Every src= and href= in the HTML (the page's scripts, styles and links). */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
}

const TYPE_OF: Record<string, RegExp> = {
  ".js": /^text\/javascript/,
  ".css": /^text\/css/,
};

describe.each(["/docs", "/"])("%s offline", (path) => {
  test("names no outside host, and K2 serves every file it references", async () => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    // No scheme-qualified or protocol-relative URL anywhere in the HTML, not only in attributes.
    expect(html.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi) ?? []).toEqual([]);
    const refs = references(html).filter((r) => !r.startsWith("data:"));
    expect(refs.length).toBeGreaterThanOrEqual(path === "/docs" ? 3 : 4);
    for (const ref of refs) {
      expect(ref).toStartWith("/");
      const asset = await get(ref);
      expect({ ref, status: asset.status }).toEqual({ ref, status: 200 });
      const ext = ref.slice(ref.lastIndexOf("."));
      if (TYPE_OF[ext]) expect(asset.headers.get("content-type")).toMatch(TYPE_OF[ext]);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });
});

describe("the API reference viewer", () => {
  test("its script loads the spec from K2's JSON path, never from the public validator", async () => {
    const js = await (await get("/docs/assets/docs.js")).text();
    expect(js).toContain('url: "/docs/json"');
    expect(js).toContain("validatorUrl: null");
    const spec = await get("/docs/json");
    expect(spec.status).toBe(200);
    const body = (await spec.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(body.paths)).toContain("/health/ready");
    // The page's own routes are not API operations.
    expect(Object.keys(body.paths).filter((p) => p === "/" || p.startsWith("/page"))).toEqual([]);
  });

  test("the vendor bundle is the installed package's file, byte for byte", async () => {
    const served = new Uint8Array(await (await get("/docs/assets/swagger-ui-bundle.js")).arrayBuffer());
    const file = Bun.resolveSync("swagger-ui-dist/swagger-ui-bundle.js", import.meta.dir);
    expect(Buffer.from(served).equals(Buffer.from(await Bun.file(file).arrayBuffer()))).toBe(true);
  });

  test("a file not on the list is not served (no path from the URL reaches the disk)", async () => {
    for (const p of ["/page/../../package.json", "/page/vendor/..%2f..%2fpackage.json", "/page/nope.js"])
      expect((await get(p)).status).toBe(404);
  });
});
