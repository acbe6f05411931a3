/**
 * The query subsystem: DuckDB over the catalog's files plus the hot rows ingest hands it. Cached
 * candles and rows of a file go when compaction or retention deletes the file.
 */
import type { Catalog } from "../catalog/index.ts";
import { fileSourceOf } from "../catalog/views.ts";
import type { Config } from "../config/index.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { type GapView, QueryEngine } from "../query/engine.ts";
import type { DegradationManager } from "../resilience/degradation.ts";
import { nowUs } from "../source/binance/connection.ts";
import { once } from "./subsystem.ts";

export interface QueryDeps {
  readonly config: Config;
  readonly catalog: Catalog;
  readonly symbols: SymbolTable;
  /** The gap ledger, where this process ingests (the summary reports gaps from it). */
  readonly gaps?: GapView;
  readonly degradation: DegradationManager;
  /** A query node: list the shared folder again now (a listed file was deleted under a query). */
  readonly relist?: () => Promise<void>;
}

export async function openQuery(d: QueryDeps) {
  const { config, catalog } = d;
  const engine = await QueryEngine.open(
    {
      source: fileSourceOf(catalog, () => d.symbols.names(), d.relist),
      symbols: d.symbols,
      gaps: d.gaps,
      nowUs,
      budgetScale: () => d.degradation.queryBudgetScale,
    },
    {
      threads: config.queryThreads,
      memoryLimitMb: config.queryMemoryMb,
      allocatorKeepMb: config.queryAllocatorKeepMb,
      hotRowsPerSymbol: config.queryHotRows,
      maxScanRows: config.queryMaxScanRows,
      maxRangeUs: config.queryMaxRangeDays * 86_400_000_000,
      candleCachePartials: config.queryCandleCache,
      rowCacheCells: config.queryRowCache,
    },
  );
  catalog.onForget((paths) => {
    engine.candles.dropFiles(paths);
    engine.rowCache.dropFiles(paths);
  });
  return {
    name: "query",
    engine,
    checks: { query: () => (engine.healthy ? { ok: true } : { ok: false, reason: "DuckDB not healthy" }) },
    start() {},
    stop: once(async () => engine.close()),
  };
}
