/**
 * The completeness subsystem: live kline reconciliation (src/completeness/), on when K2_STREAMS
 * lists `kline`. It needs ingest (the klines, the ledger, the repairer) and query (DuckDB over the
 * catalog's files), so it is opened after both and stopped before query. It also issues the
 * completeness certificates of /v1/completeness.
 */
import type { Catalog } from "../catalog/index.ts";
import { fileSourceOf } from "../catalog/views.ts";
import { type CertTable, certify, KlineReconciler } from "../completeness/index.ts";
import type { Config } from "../config/index.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import type { Registry } from "../obs/metrics.ts";
import type { QueryEngine } from "../query/engine.ts";
import { nowUs } from "../source/binance/connection.ts";
import type { IngestSide } from "./ingest.ts";
import { once } from "./subsystem.ts";

export interface CompletenessDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly symbols: SymbolTable;
  readonly catalog: Catalog;
  readonly engine: QueryEngine;
  readonly ingest: IngestSide;
  readonly registry: Registry;
  /**
   * The archive certificates consult: K2_ARCHIVE_URL, or the embedded simulator's archive with
   * K2_SOURCE=sim (a demo certifies against its own market, never the real archive host).
   */
  readonly archiveRoot: string;
}

export function openCompleteness(d: CompletenessDeps) {
  const klines = d.config.streams.includes("kline")
    ? new KlineReconciler({
        dataDir: d.config.dataDir,
        symbols: d.symbols,
        files: fileSourceOf(d.catalog, () => d.symbols.names()),
        duck: d.engine.duck,
        repair: { ledger: d.ingest.ledger, enqueue: (g) => d.ingest.repairer.enqueue(g) },
        gapMaxIds: d.config.gapMaxIds,
        nowUs,
        log: d.log,
        registry: d.registry,
        rest: d.ingest.rest,
      })
    : undefined;
  return {
    name: "completeness",
    klines,
    /** Certificates see the ledger in memory (the journal lags it by up to a second). */
    certify: (table: CertTable, symbol: string, date: string, spotPages: number) =>
      certify(
        {
          dataDir: d.config.dataDir,
          duck: d.engine.duck,
          archiveRoot: d.archiveRoot,
          gaps: () => d.ingest.ledger.entries(),
          rest: d.ingest.rest,
        },
        table,
        symbol,
        date,
        spotPages,
      ),
    checks: {},
    start() {
      klines?.start();
    },
    stop: once(async () => {
      await klines?.stop();
    }),
  };
}
