import { describe, expect, test } from "bun:test";
import type { Columns } from "./duck.ts";
import { RowCache } from "./row-cache.ts";

/** A result of `rows` rows × 2 columns whose first cell names the run that produced it. */
function result(run: number, rows: number): Columns {
  return {
    names: ["trade_id", "price"],
    scales: [undefined, 8],
    data: [Array.from({ length: rows }, (_, i) => run * 1000 + i), Array.from({ length: rows }, () => 1n)],
    length: rows,
  };
}

describe("RowCache", () => {
  test("a key runs once; hits return the same result; concurrent callers share the run", async () => {
    const c = new RowCache({ maxCells: 1_000 });
    let runs = 0;
    const run = async () => result(++runs, 10);
    const [a, b] = await Promise.all([c.get("k", ["f1"], run), c.get("k", ["f1"], run)]);
    expect(runs).toBe(1);
    expect(b).toBe(a);
    expect(await c.get("k", ["f1"], run)).toBe(a);
    expect([c.hits, c.misses, c.cells]).toEqual([2, 1, 20]);
    await c.get("other", ["f1"], run);
    expect(runs).toBe(2);
  });

  test("least recently used entries go first once the cells exceed the capacity", async () => {
    const c = new RowCache({ maxCells: 100 });
    let runs = 0;
    const run = async () => result(++runs, 12); // 24 cells each, under a quarter of 100
    for (const k of ["a", "b", "a", "c", "d", "e"]) await c.get(k, [], run); // a touched after b
    expect([c.cells, c.evicted]).toEqual([96, 1]); // 120 cells: b went
    await c.get("a", [], run);
    await c.get("b", [], run);
    expect(runs).toBe(6); // a hit, b ran again
  });

  test("a result over a quarter of the capacity is returned, not kept; 0 turns the cache off", async () => {
    const c = new RowCache({ maxCells: 100 });
    let runs = 0;
    const run = async () => result(++runs, 13); // 26 cells > 25
    expect((await c.get("big", [], run)).length).toBe(13);
    await c.get("big", [], run);
    expect([runs, c.cells]).toEqual([2, 0]);
    const off = new RowCache({ maxCells: 0 });
    await off.get("k", [], run);
    await off.get("k", [], run);
    expect(runs).toBe(4);
  });

  test("a failed run is not kept: the next call runs again", async () => {
    const c = new RowCache({ maxCells: 1_000 });
    let runs = 0;
    const failing = async (): Promise<Columns> => {
      runs++;
      throw new Error("disk gone");
    };
    await expect(c.get("k", [], failing)).rejects.toThrow("disk gone");
    await expect(c.get("k", [], failing)).rejects.toThrow("disk gone");
    expect([runs, c.cells]).toEqual([2, 0]);
  });

  test("dropFiles forgets the entries reading a deleted file, and only those", async () => {
    const c = new RowCache({ maxCells: 1_000 });
    let runs = 0;
    const run = async () => result(++runs, 10);
    await c.get("old", ["/d/a.parquet", "/d/b.parquet"], run);
    await c.get("new", ["/d/c.parquet"], run);
    c.dropFiles(["/d/b.parquet"]);
    expect(c.cells).toBe(20);
    await c.get("new", ["/d/c.parquet"], run);
    await c.get("old", ["/d/a.parquet", "/d/b.parquet"], run);
    expect(runs).toBe(3);
  });
});
