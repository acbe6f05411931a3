import { expect, test } from "bun:test";
import { migrateReqWarning } from "./migrate-req.ts";

test("a warning when queued connections would be reset at a hand-over; none when migrated or unknown", () => {
  expect(migrateReqWarning(() => "0\n")).toContain("tcp_migrate_req=0");
  expect(migrateReqWarning(() => "1\n")).toBeNull();
  expect(
    migrateReqWarning(() => {
      throw new Error("ENOENT");
    }),
  ).toBeNull();
});
