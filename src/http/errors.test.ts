import { describe, expect, test } from "bun:test";
import { HttpError, mapError } from "./errors.ts";

describe("mapError", () => {
  test("HttpError keeps its status, code, message and field", () => {
    const m = mapError(
      "UNKNOWN",
      new HttpError(400, "invalid_parameter", "limit: expected 1..10000", "limit"),
      "r1",
      "/x",
    );
    expect(m.status).toBe(400);
    expect(m.body).toEqual({
      error: {
        code: "invalid_parameter",
        message: "limit: expected 1..10000",
        request_id: "r1",
        field: "limit",
      },
    });
    expect(m.unexpected).toBe(false);
  });

  test("Elysia NOT_FOUND and PARSE map to 404 and 400", () => {
    expect(mapError("NOT_FOUND", new Error("x"), "r", "/nope").status).toBe(404);
    expect(mapError("NOT_FOUND", new Error("x"), "r", "/nope").body.error.message).toContain("/nope");
    expect(mapError("PARSE", new Error("x"), "r", "/").status).toBe(400);
  });

  test("anything else is a 500 with no internals", () => {
    const err = new Error("secret path /etc/passwd at line 3");
    const m = mapError("UNKNOWN", err, "r9", "/");
    expect(m.status).toBe(500);
    expect(m.unexpected).toBe(true);
    const text = JSON.stringify(m.body);
    expect(text).not.toContain("secret");
    expect(text).not.toContain("at line");
    expect(m.body.error.request_id).toBe("r9");
  });
});
