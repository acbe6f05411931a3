/**
 * Test data for catalog tests: real Parquet files with exactly the ids a case needs (sparse,
 * overlapping, any table), written through the project's writer pool and added to a catalog,
 * plus an independent read of what ended up on disk (DuckDB, not the project's reader).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { allocRowColumns, TABLE_ID_COLUMN, Table, type TableName } from "../../model/index.ts";
import { buildBatch, type FileInfo, type ParquetWriterPool } from "../../sink/parquet/index.ts";
import type { Catalog } from "../catalog.ts";

/** 2023-11-14T00:00:00Z: a fixed, closed day, so no case depends on the wall clock. */
export const DAY0_US = 19_675 * 86_400_000_000;

/**
 * Write one file of `table` rows for `symbol` holding exactly `ids` (in that order), event
 * times from `t0Us` one millisecond apart, and record it in `catalog`.
 */
export async function writeIds(
  pool: ParquetWriterPool,
  catalog: Catalog,
  table: TableName,
  symbol: string,
  ids: readonly number[],
  t0Us = DAY0_US + 3_600_000_000,
): Promise<FileInfo> {
  const rows = allocRowColumns(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const t = t0Us + i * 1_000;
    rows.kind[i] = Table[table];
    rows.id[i] = ids[i]!;
    rows.event_time_us[i] = t;
    rows.recv_time_us[i] = t + 500;
    rows.trade_time_us[i] = table === "quotes" ? 0 : t - 3;
    rows.dec0[i] = 100_000_000n + BigInt(i); // 1.00000000 + i e-8: any valid decimal will do
    rows.dec1[i] = 5_000_000n;
    if (table === "quotes") {
      rows.dec2[i] = rows.dec0[i]! + 1n;
      rows.dec3[i] = 7_000_000n;
    }
    if (table === "agg_trades") {
      rows.first_id[i] = ids[i]! * 10;
      rows.last_id[i] = ids[i]! * 10 + 1;
    }
  }
  const slots = Array.from({ length: ids.length }, (_, i) => i);
  const info = await pool.write(buildBatch(table, symbol, 0, rows, slots));
  catalog.add(info);
  return info;
}

/** Ids [a, b], both inclusive. */
export const span = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/**
 * Every id of `table` per symbol in every Parquet file under `dataDir`, read by DuckDB straight
 * from the Hive tree: a file compaction forgot to delete shows up here as a duplicate.
 */
export async function idsOnDisk(dataDir: string, table: TableName): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (!existsSync(join(dataDir, table))) return out;
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  try {
    const col = TABLE_ID_COLUMN[table];
    const glob = join(dataDir, table, "*", "*", "*.parquet");
    const r = await conn.runAndReadAll(
      `SELECT symbol, list(${col} ORDER BY ${col}) AS ids
       FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY symbol`,
    );
    for (const row of r.getRowObjectsJS()) out.set(String(row.symbol), (row.ids as bigint[]).map(Number));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return out;
}
