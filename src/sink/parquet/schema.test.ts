/**
 * Schema versions: every version ever written stays readable (an upgrade serves the files of the
 * one before it), and a file of a later version is refused with its reason, not served.
 */
import { expect, test } from "bun:test";
import { fileInfoFromKv } from "./meta.ts";
import { META, READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION } from "./schema.ts";

test("every version from 1 to the current one has a reader", () => {
  const all = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1);
  expect([...READABLE_SCHEMA_VERSIONS].sort((a, b) => a - b)).toEqual(all);
});

test("a file of a later version is refused (not served), naming the versions this build reads", () => {
  const kv = new Map([[META.schemaVersion, String(SCHEMA_VERSION + 1)]]);
  expect(() => fileInfoFromKv("/x/f.parquet", kv, 100, 1)).toThrow(
    `/x/f.parquet: k2.schema_version ${SCHEMA_VERSION + 1}, this build reads ${READABLE_SCHEMA_VERSIONS.join(", ")}`,
  );
});
