/**
 * What an operational run proves at its end: per table, the ids K2 stored (read by DuckDB) against
 * the simulator's whole ground truth — lost, duplicated, unexpected — as numbers for a report.
 */
import type { GroundTruth } from "../../src/sim/index.ts";
import { idsInTruth, type TruthTable } from "../../test/support/bounded-run.ts";
import { storedTradeIds } from "../../test/support/stored.ts";

export interface TableVerdict {
  table: TruthTable;
  expected: number;
  stored: number;
  lost: number;
  duplicated: number;
  unexpected: number;
}

export async function tableVerdicts(
  dataDir: string,
  gt: GroundTruth,
  symbols: readonly string[],
  tables: readonly TruthTable[] = ["trades", "agg_trades", "quotes"],
): Promise<TableVerdict[]> {
  const out: TableVerdict[] = [];
  for (const table of tables) {
    const stored = await storedTradeIds(dataDir, table);
    const v: TableVerdict = { table, expected: 0, stored: 0, lost: 0, duplicated: 0, unexpected: 0 };
    for (const sym of symbols) {
      const want = idsInTruth(gt, table, sym);
      const got = stored.get(sym);
      const have = new Set(got?.ids ?? []);
      const wanted = new Set(want);
      v.expected += want.length;
      v.stored += got?.distinct ?? 0;
      v.duplicated += (got?.rows ?? 0) - (got?.distinct ?? 0);
      for (const id of want) if (!have.has(id)) v.lost++;
      for (const id of have) if (!wanted.has(id)) v.unexpected++;
    }
    out.push(v);
  }
  return out;
}

export const clean = (vs: readonly TableVerdict[]) =>
  vs.every((v) => v.lost === 0 && v.duplicated === 0 && v.unexpected === 0 && v.expected > 0);

export function writeReport(dir: string, name: string, report: unknown): string {
  const path = `${dir}/${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  Bun.write(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
