/** Read what K2 stored, with DuckDB (an independent reader), straight from the Hive tree. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export interface StoredIds {
  ids: number[];
  rows: number;
  distinct: number;
}

/** Trade ids stored per symbol (sorted), plus row vs distinct counts to expose duplicates. */
export async function storedTradeIds(dataDir: string, table = "trades"): Promise<Map<string, StoredIds>> {
  const out = new Map<string, StoredIds>();
  if (!existsSync(join(dataDir, table))) return out;
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  try {
    const idCol = table === "trades" ? "trade_id" : table === "agg_trades" ? "agg_trade_id" : "update_id";
    const glob = join(dataDir, table, "*", "*", "*.parquet");
    const r = await conn.runAndReadAll(
      `SELECT symbol, list(${idCol} ORDER BY ${idCol}) AS ids, count(*) AS n, count(DISTINCT ${idCol}) AS d
       FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY symbol`,
    );
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
