/**
 * What K2 stored against the simulator's ground truth, per table, by an independent reader
 * (DuckDB over the Parquet files, test/support/stored.ts): ids are walked against the truth's
 * ranges, so a run of millions of rows is judged without expanding the truth into arrays.
 */
import { visibleFilePaths } from "../src/catalog/index.ts";
import type { TableName } from "../src/model/index.ts";
import type { GroundTruth, IdRange } from "../src/sim/index.ts";
import type { TruthTable } from "../test/support/bounded-run.ts";
import { storedTradeIds } from "../test/support/stored.ts";

export interface TableCheck {
  /** Ids the simulator sent (the truth). */
  truth: number;
  lost: number;
  dup: number;
  /** Stored ids the simulator never sent. */
  unexpected: number;
}

const PARQUET_TABLE: Record<TruthTable, TableName> = {
  trades: "trades",
  agg_trades: "agg_trades",
  quotes: "quotes",
};

export function truthRanges(gt: GroundTruth, table: TruthTable, symbol: string): IdRange[] {
  const t = gt.symbols[symbol];
  if (!t) return [];
  return table === "trades" ? t.tradeIds : table === "agg_trades" ? t.aggIds : t.quoteIds;
}

export function rangeCount(ranges: readonly IdRange[]): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}

/** Distinct sorted ids inside the ranges (both ascending). */
function distinctInside(ids: readonly number[], ranges: readonly IdRange[]): number {
  let n = 0;
  let r = 0;
  let prev = Number.NaN;
  for (const id of ids) {
    if (id === prev) continue;
    prev = id;
    while (r < ranges.length && ranges[r]![1] < id) r++;
    if (r < ranges.length && ranges[r]![0] <= id) n++;
  }
  return n;
}

/** Call it once K2 has stopped: files that change under the read fail it (or count twice). */
export async function compareStored(
  dataDir: string,
  gt: GroundTruth,
  symbols: readonly string[],
  tables: readonly TruthTable[],
): Promise<Record<string, TableCheck>> {
  const out: Record<string, TableCheck> = {};
  for (const table of tables) {
    if (table === "trades" && symbols.some((s) => (gt.symbols[s]?.missingAtSourceTradeIds.length ?? 0) > 0))
      throw new Error("the benchmark's market has no faults: trades missing at source are unexpected");
    const stored = await storedTradeIds(
      dataDir,
      PARQUET_TABLE[table],
      await visibleFilePaths(dataDir, { table: PARQUET_TABLE[table] }),
    );
    const c: TableCheck = { truth: 0, lost: 0, dup: 0, unexpected: 0 };
    for (const sym of symbols) {
      const ranges = truthRanges(gt, table, sym);
      const want = rangeCount(ranges);
      const have = stored.get(sym);
      const inside = have ? distinctInside(have.ids, ranges) : 0;
      c.truth += want;
      c.lost += want - inside;
      c.dup += (have?.rows ?? 0) - (have?.distinct ?? 0);
      c.unexpected += (have?.distinct ?? 0) - inside;
    }
    out[table] = c;
  }
  return out;
}
