import { describe, expect, test } from "bun:test";
import { acceptsGzip, varyOnEncoding } from "./encoding.ts";

describe("Accept-Encoding", () => {
  test("gzip is taken when named without q=0, in any case and position", () => {
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("br, GZIP;q=0.5, deflate")).toBe(true);
    expect(acceptsGzip("x-gzip")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("gzip; q=0.000")).toBe(false);
    expect(acceptsGzip("br, deflate")).toBe(false);
    expect(acceptsGzip("*")).toBe(false);
    expect(acceptsGzip("identity")).toBe(false);
    expect(acceptsGzip(null)).toBe(false);
  });

  test("Vary keeps what the CORS gate put there", () => {
    const h: Record<string, string | number> = {};
    varyOnEncoding(h);
    expect(h.vary).toBe("Accept-Encoding");
    const cors: Record<string, string | number> = { vary: "Origin" };
    varyOnEncoding(cors);
    expect(cors.vary).toBe("Origin, Accept-Encoding");
  });
});
