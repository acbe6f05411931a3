import { expect, test } from "bun:test";
import { ALL_STATUSES, DecodeStatus, statusName } from "./status.ts";

test("every status has a distinct snake_case name matching its key", () => {
  const names = ALL_STATUSES.map(statusName);
  expect(new Set(names).size).toBe(ALL_STATUSES.length);
  for (const [key, code] of Object.entries(DecodeStatus))
    expect(statusName(code)).toBe(key.toLowerCase() as never);
  expect(statusName(99)).toBe("unknown");
});
