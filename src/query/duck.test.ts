import { describe, expect, test } from "bun:test";
import { waitUntil } from "../../test/support/wait.ts";
import { DEFAULT_DUCK_OPTIONS, Duck } from "./duck.ts";

describe("Duck memory settings and accounting", () => {
  test("the allocator keep threshold comes from options and the purge thread is on", async () => {
    const d = await Duck.open({ ...DEFAULT_DUCK_OPTIONS, allocatorKeepMb: 24 });
    try {
      const r = await d.query(
        "SELECT current_setting('allocator_flush_threshold') AS keep, current_setting('allocator_background_threads') AS bg",
        [],
      );
      expect(r.data[0]![0]).toBe("24.0 MiB");
      expect(r.data[1]![0]).toBe(true);
    } finally {
      d.close();
    }
  });

  test("duckdb_memory() is read for metrics without counting as a query", async () => {
    const d = await Duck.open(DEFAULT_DUCK_OPTIONS);
    try {
      await waitUntil(() => d.memoryBytes >= 0, 2000, "the first duckdb_memory() reading");
      expect(d.queries).toBe(0);
    } finally {
      d.close();
    }
  });
});
