/** Read what K2 stored, with DuckDB (an independent reader), straight from the Hive tree. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export interface StoredIds {
  ids: number[];
  rows: number;
  distinct: number;
}

/**
 * Trade ids stored per symbol (sorted), plus row vs distinct counts to expose duplicates. `files`:
 * read only these (e.g. the visible ones as K2's scan lists them) instead of every file on disk.
 */
export async function storedTradeIds(
  dataDir: string,
  table = "trades",
  files?: readonly string[],
): Promise<Map<string, StoredIds>> {
  const out = new Map<string, StoredIds>();
  if (!existsSync(join(dataDir, table)) || files?.length === 0) return out;
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  try {
    const idCol = table === "trades" ? "trade_id" : table === "agg_trades" ? "agg_trade_id" : "update_id";
    const glob = files
      ? `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(", ")}]`
      : `'${join(dataDir, table, "*", "*", "*.parquet")}'`;
    const r = await vanishRetry(() =>
      conn.runAndReadAll(
        `SELECT symbol, list(${idCol} ORDER BY ${idCol}) AS ids, count(*) AS n, count(DISTINCT ${idCol}) AS d
       FROM read_parquet(${glob}, hive_partitioning = true) GROUP BY symbol`,
      ),
    ).catch((e) => {
      // The table's folder exists before its first file is renamed into place (K2 writes a
      // temporary file first): nothing stored yet, as when the folder is missing.
      if (!files && /No files found/.test(String(e))) return undefined;
      throw e;
    });
    if (!r) return out;
    for (const row of r.getRowObjectsJS()) {
      const ids = (row.ids as bigint[]).map(Number);
      out.set(String(row.symbol), { ids, rows: Number(row.n), distinct: Number(row.d) });
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return out;
}

/**
 * While K2 runs, compaction may delete a file between DuckDB's glob and its open: read again
 * (bounded). Only that error: any other (a partial or corrupt file) fails the caller at once.
 */
async function vanishRetry<T>(read: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (e) {
      if (i >= attempts || !/Cannot open file .*No such file or directory/.test(String(e))) throw e;
    }
  }
}
