/**
 * storedIdsOf: WAL replay trusts it to say which ids are already in visible files, so it must
 * answer with exact ids read from real Parquet files, not with file ranges: a replayed row whose
 * id lies inside some file's range but in no file would otherwise be dropped for good.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParquetWriterPool } from "../sink/parquet/index.ts";
import { Catalog } from "./catalog.ts";
import { span, writeIds } from "./testdata/files.ts";
import { storedIdsOf } from "./views.ts";

let dataDir = "";
let pool: ParquetWriterPool;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "k2-views-"));
  pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
});
afterEach(async () => {
  await pool.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

describe("storedIdsOf", () => {
  test("exact ids of visible files, across overlapping and sparse ranges, one table and symbol only", async () => {
    const catalog = new Catalog();
    const put = (table: "trades" | "agg_trades" | "quotes", symbol: string, ids: number[]) =>
      writeIds(pool, catalog, table, symbol, ids);
    // BTCUSDT trades as a day of live ingest plus repairs leaves them:
    await put("trades", "BTCUSDT", span(100, 149)); // a live batch
    // Live batch whose range [150, 199] hides two ids the socket lost (160, 175).
    await put(
      "trades",
      "BTCUSDT",
      span(150, 199).filter((id) => id !== 160 && id !== 175),
    );
    // REST repair: the two lost ids plus two from a later outage 200..299; its range [160, 260]
    // overlaps the batch above and spans ids no file holds.
    await put("trades", "BTCUSDT", [160, 175, 205, 260]);
    await put("trades", "BTCUSDT", span(140, 155)); // a WAL replay wrote these again
    await put("trades", "BTCUSDT", span(300, 309));
    // A compacted-away file: still on disk (a reader pins it), no longer visible.
    const retired = await put("trades", "BTCUSDT", span(400, 410));
    expect(catalog.swap([retired])).toBe(true);
    expect(existsSync(retired.path)).toBe(true);
    // Same ids in other series must never leak into the BTCUSDT trades answer.
    await put("trades", "ETHUSDT", span(200, 299));
    await put("agg_trades", "BTCUSDT", span(200, 299));
    await put("quotes", "BTCUSDT", [5000, 5007, 5020]);

    const stored = storedIdsOf(catalog);
    const ids = (from: number, to: number) => stored.idsBetween("trades", "BTCUSDT", from, to);

    expect(sorted(await ids(0, 1000))).toEqual([...span(100, 199), 205, 260, ...span(300, 309)]);
    // Inside the outage: only what the repair stored, although file ranges cover all of it.
    expect(sorted(await ids(200, 299))).toEqual([205, 260]);
    expect(sorted(await ids(155, 165))).toEqual(span(155, 165));
    expect(sorted(await ids(198, 301))).toEqual([198, 199, 205, 260, 300, 301]);
    expect(sorted(await ids(400, 500))).toEqual([]); // only the retired file held these
    expect(sorted(await ids(10, 99))).toEqual([]);

    // Each table reads its own id column (agg_trade_id, update_id).
    expect(sorted(await stored.idsBetween("agg_trades", "BTCUSDT", 250, 260))).toEqual(span(250, 260));
    expect(sorted(await stored.idsBetween("quotes", "BTCUSDT", 0, 10_000))).toEqual([5000, 5007, 5020]);
    expect(sorted(await stored.idsBetween("trades", "ETHUSDT", 295, 400))).toEqual(span(295, 299));
    expect(sorted(await stored.idsBetween("trades", "SOLUSDT", 0, 1e9))).toEqual([]);

    // maxId: highest visible id of the series (the retired 410 does not count), -1 when none.
    expect(stored.maxId("trades", "BTCUSDT")).toBe(309);
    expect(stored.maxId("trades", "ETHUSDT")).toBe(299);
    expect(stored.maxId("quotes", "BTCUSDT")).toBe(5020);
    expect(stored.maxId("agg_trades", "ETHUSDT")).toBe(-1);
  });
});
