/**
 * The proof at the end of every run: what K2 stored (read back from its Parquet files by DuckDB,
 * an independent reader) against the simulator's ground truth. Works on id *ranges* (islands of
 * consecutive stored ids), so a 24 h soak of 170M trades is still a handful of numbers.
 *
 * Window per symbol: [first id the simulator generated, last id it had generated at the cut].
 * The stack starts the market paused and resumes it once K2 is connected (soak/lib/stack.ts), so
 * K2's first trade is the first one generated and losing the first rows counts as a loss; after
 * the cut the run was still going when K2 stopped, so nothing is owed.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { visibleFilePaths } from "../../src/catalog/index.ts";
import type { GroundTruth, IdRange } from "../../src/sim/index.ts";

export interface LedgerEntry {
  table: string;
  symbol: string;
  from_id: number;
  to_id: number;
  state: string;
}

export interface SymbolVerdict {
  symbol: string;
  window: IdRange | null;
  expected: number;
  stored: number;
  duplicated: number;
  lost: number;
  /** Stored ids the source never delivered (missing at source or never generated). */
  unexpected: number;
  missingAtSource: number;
  /** Missing-at-source ids in the window that the ledger does not list as missing_at_source. */
  missingNotLedgered: number;
  lostSample: IdRange[];
}

export interface Completeness {
  expected: number;
  stored: number;
  duplicated: number;
  lost: number;
  unexpected: number;
  missingAtSource: number;
  missingNotLedgered: number;
  ok: boolean;
  symbols: SymbolVerdict[];
}

/** Per symbol: islands of consecutive distinct trade ids, and row vs distinct counts. */
export async function storedIslands(dataDir: string) {
  const out = new Map<string, { islands: IdRange[]; rows: number; distinct: number }>();
  if (!existsSync(join(dataDir, "trades"))) return out;
  const files = await visibleFilePaths(dataDir, { table: "trades" });
  if (files.length === 0) return out;
  const db = await DuckDBInstance.create(":memory:", { threads: "2" });
  const conn = await db.connect();
  try {
    const src = `read_parquet([${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(", ")}], hive_partitioning = true)`;
    const counts = await conn.runAndReadAll(
      `SELECT symbol, count(*) AS n, count(DISTINCT trade_id) AS d FROM ${src} GROUP BY symbol`,
    );
    for (const r of counts.getRowObjectsJS())
      out.set(String(r.symbol), { islands: [], rows: Number(r.n), distinct: Number(r.d) });
    // Gaps-and-islands: consecutive ids share (id - rank).
    const isl = await conn.runAndReadAll(
      `WITH d AS (SELECT DISTINCT symbol, trade_id AS id FROM ${src}),
            k AS (SELECT symbol, id, id - row_number() OVER (PARTITION BY symbol ORDER BY id) AS g FROM d)
       SELECT symbol, min(id) AS lo, max(id) AS hi FROM k GROUP BY symbol, g ORDER BY symbol, lo`,
    );
    for (const r of isl.getRowObjectsJS())
      out.get(String(r.symbol))?.islands.push([Number(r.lo), Number(r.hi)]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return out;
}

/** a − b for sorted, disjoint range lists. */
export function subtract(a: readonly IdRange[], b: readonly IdRange[]): IdRange[] {
  const out: IdRange[] = [];
  let j = 0;
  for (const [lo0, hi] of a) {
    let lo = lo0;
    while (j < b.length && b[j]![1] < lo) j++;
    let k = j;
    while (lo <= hi && k < b.length && b[k]![0] <= hi) {
      const [blo, bhi] = b[k]!;
      if (blo > lo) out.push([lo, blo - 1]);
      lo = Math.max(lo, bhi + 1);
      k++;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

export function clip(a: readonly IdRange[], lo: number, hi: number): IdRange[] {
  const out: IdRange[] = [];
  for (const [x, y] of a) if (y >= lo && x <= hi) out.push([Math.max(x, lo), Math.min(y, hi)]);
  return out;
}

export const countIds = (a: readonly IdRange[]) => a.reduce((n, [x, y]) => n + y - x + 1, 0);

/**
 * Compare stored ids with `truth` (taken at the cut) and the gap `ledger` (read before SIGTERM).
 * ok = nothing lost, nothing duplicated, nothing invented, every missing-at-source id ledgered.
 */
export async function verifyCompleteness(
  dataDir: string,
  truth: GroundTruth,
  symbols: readonly string[],
  ledger: readonly LedgerEntry[],
  /** A snapshot taken after K2 stopped: ids K2 stored past the cut must exist in it. */
  after: GroundTruth = truth,
): Promise<Completeness> {
  const stored = await storedIslands(dataDir);
  const out: SymbolVerdict[] = [];
  for (const symbol of symbols) {
    const t = truth.symbols[symbol];
    const ta = after.symbols[symbol] ?? t;
    const s = stored.get(symbol);
    const first = t?.tradeIds[0]?.[0];
    const cut = t?.tradeIds[t.tradeIds.length - 1]?.[1];
    const v: SymbolVerdict = {
      symbol,
      window: null,
      expected: 0,
      stored: s?.distinct ?? 0,
      duplicated: s ? s.rows - s.distinct : 0,
      lost: 0,
      unexpected: 0,
      missingAtSource: 0,
      missingNotLedgered: 0,
      lostSample: [],
    };
    if (!t || first === undefined || cut === undefined) {
      // Nothing stored for a symbol that traded: everything it generated is lost.
      v.lost = t ? t.tradeCount : 0;
      v.expected = v.lost;
      out.push(v);
      continue;
    }
    v.window = [first, cut];
    const missing = clip(t.missingAtSourceTradeIds, first, cut);
    const deliverable = subtract(clip(t.tradeIds, first, cut), missing);
    const islands = clip(s!.islands, first, cut);
    const lost = subtract(deliverable, islands);
    v.expected = countIds(deliverable);
    v.lost = countIds(lost);
    v.lostSample = lost.slice(0, 5);
    // Everything stored (even past the cut) must be something the source really delivered.
    const intersect = (a: IdRange[], b: IdRange[]) => subtract(a, subtract(a, b));
    v.unexpected =
      countIds(subtract(s!.islands, ta!.tradeIds)) +
      countIds(intersect(s!.islands, ta!.missingAtSourceTradeIds));
    v.missingAtSource = countIds(missing);
    const ledgered = ledger
      .filter((e) => e.table === "trades" && e.symbol === symbol && e.state === "missing_at_source")
      .map((e): IdRange => [e.from_id, e.to_id])
      .sort((a, b) => a[0] - b[0]);
    v.missingNotLedgered = countIds(subtract(missing, mergeRanges(ledgered)));
    out.push(v);
  }
  const total = (k: keyof SymbolVerdict) => out.reduce((n, v) => n + (v[k] as number), 0);
  const c: Completeness = {
    expected: total("expected"),
    stored: total("stored"),
    duplicated: total("duplicated"),
    lost: total("lost"),
    unexpected: total("unexpected"),
    missingAtSource: total("missingAtSource"),
    missingNotLedgered: total("missingNotLedgered"),
    ok: false,
    symbols: out,
  };
  c.ok = c.lost === 0 && c.duplicated === 0 && c.unexpected === 0 && c.missingNotLedgered === 0;
  return c;
}

export function mergeRanges(sorted: readonly IdRange[]): IdRange[] {
  const out: IdRange[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
