/**
 * Role `query`: files → HTTP API, with no link to any recorder or writer. The catalog is the
 * shared folder's listing, read again every RESCAN_MS: new files join, files compacted away or
 * deleted leave (their cached candles and rows with them). The newest rows, not yet in a file,
 * come from the stream (bus-tail.ts) when the NATS cluster answers; without it the node serves
 * the files alone. With K2_DATA_DIR=s3://… the bucket's new objects are downloaded into
 * K2_LOCAL_DIR before each listing (objects deleted from the bucket stay in the local copy, where
 * the `replaces` footers of compacted files still hide what they replaced). With `depth` in
 * K2_STREAMS it answers the stored order books (stored-books.ts); the live book stays with the
 * recorders. Completeness certificates (/v1/completeness) are made from the shared folder alone:
 * no gap ledger (the recorders keep theirs), the archive, the kline verdicts a writer keeps there,
 * and REST spot checks when a request asks (docs/SCALING.md "Completeness in the roles").
 */
import { Catalog, rebuildCatalog } from "../catalog/index.ts";
import { type CertTable, certify } from "../completeness/index.ts";
import type { Config } from "../config/index.ts";
import { SymbolTable } from "../model/symbols.ts";
import { type Logger, Registry, registerProcessMetrics, stageLogger } from "../obs/index.ts";
import { type Bus, openBus } from "../pipeline/bus.ts";
import { openBusTail } from "../pipeline/bus-tail.ts";
import { openQuery } from "../pipeline/query.ts";
import { openMirror } from "../pipeline/storage.ts";
import { once, registerChecks, Timers } from "../pipeline/subsystem.ts";
import { DegradationManager } from "../resilience/degradation.ts";
import { Readiness } from "../resilience/readiness.ts";
import type { FileInfo } from "../sink/parquet/index.ts";
import { atStartup, pullMissing } from "../sink/s3/index.ts";
import { BinanceRest } from "../source/binance/rest.ts";
import type { RoleProcess } from "./role.ts";
import { openStoredBooks } from "./stored-books.ts";

/** How often the folder is listed again: the freshness of a query node's answers. */
export const RESCAN_MS = 1000;

/** Footers read by earlier listings, by path: each listing reads only the files new since. */
export type Footers = Map<string, FileInfo>;

/** Bring `catalog` to the folder's current listing; returns files added and removed. */
export async function rescan(
  catalog: Catalog,
  dataDir: string,
  footers: Footers = new Map(),
): Promise<{ added: number; removed: number }> {
  const rebuilt = await rebuildCatalog(dataDir, {
    removeSuperseded: false,
    removeTemp: false,
    known: footers,
  });
  footers.clear();
  for (const [path, info] of rebuilt.infos) footers.set(path, info);
  const now = rebuilt.catalog.all();
  const have = new Map(catalog.all().map((f) => [f.path, f]));
  const seen = new Set<string>();
  let added = 0;
  for (const f of now) {
    seen.add(f.path);
    if (!have.has(f.path)) {
      catalog.add(f);
      added++;
    }
  }
  const gone = [...have.values()].filter((f) => !seen.has(f.path));
  if (gone.length > 0 && catalog.swap(gone)) catalog.forget(gone.map((f) => f.path));
  return { added, removed: gone.length };
}

export async function startQueryNode(config: Config, logger: Logger): Promise<RoleProcess> {
  const registry = new Registry();
  const readiness = new Readiness();
  const watch = registerProcessMetrics(registry, config);
  const log = stageLogger(logger, "query-node");
  const catalog = new Catalog();
  // K2_DATA_DIR=s3://…: DuckDB reads a local copy (its httpfs extension cannot be installed
  // offline), so new objects are downloaded before each listing of the local folder.
  const mirror = openMirror(config, log);
  const pull = async () => {
    if (mirror) await pullMissing(mirror);
  };
  if (mirror) await atStartup(mirror, "download", pull);
  const footers: Footers = new Map();
  const first = await rescan(catalog, config.dataDir, footers);
  log.info({ files: first.added, dir: config.dataDir }, "catalog listed");
  const degradation = new DegradationManager({ rssBudgetBytes: config.rssBudgetMb * 1024 * 1024 });
  const symbols = new SymbolTable(config.symbols);
  let lastScanMs = performance.now();
  /** One listing at a time: the timer's, or one a query asks for when a listed file vanished. */
  let listing: Promise<void> | undefined;
  const listNow = (): Promise<void> =>
    (listing ??= pull()
      .then(() => rescan(catalog, config.dataDir, footers))
      .then(() => {
        lastScanMs = performance.now();
      })
      .finally(() => {
        listing = undefined;
      }));
  const query = await openQuery({ config, catalog, symbols, degradation, relist: listNow });
  const timers = new Timers();
  timers.every(RESCAN_MS, () => {
    if (listing) return;
    listNow().catch((e) => log.warn(`listing ${config.dataDir} failed: ${(e as Error).message}`));
  });
  readiness.register("config", () => ({ ok: true, reason: "role query" }));
  readiness.register("catalog", () => {
    const age = performance.now() - lastScanMs;
    return age < 10 * RESCAN_MS
      ? { ok: true, reason: `${catalog.size} files` }
      : { ok: false, reason: `folder not listed for ${Math.round(age / 1000)} s` };
  });
  registerChecks(readiness, query);
  registry.gauge("k2_catalog_files", "visible Parquet files", () => catalog.size);
  // Freshness from the stream, when it answers: files alone otherwise (and /health/ready says so).
  let bus: Bus | undefined;
  let tail: Awaited<ReturnType<typeof openBusTail>> | undefined;
  try {
    bus = await openBus(config, log, "k2-query");
    tail = await openBusTail({
      config,
      log,
      bus,
      symbols,
      onRow: (rows, slot) => query.engine.hot.append(rows, slot),
    });
    registerChecks(readiness, bus);
  } catch (e) {
    log.warn(`newest rows from the stream unavailable, serving files only: ${(e as Error).message}`);
    await bus?.stop();
    bus = undefined;
  }
  registry.counter(
    "k2_bus_tail_rows_total",
    "rows read from the stream into the hot window",
    () => tail?.stats.rows ?? 0,
  );
  query.start();
  tail?.start();
  const books = openStoredBooks(config, query.engine);
  // `/v1/completeness?spot_checks=N` compares N pages of K2_BINANCE_REST_URL's trades with the
  // stored rows, as a single process and `k2 verify --spot-checks` do; only a request asks, and
  // its weight counts against this node's K2_REST_WEIGHT_BUDGET.
  const rest = new BinanceRest({
    baseUrl: config.binanceRestUrl,
    weightBudgetPerMin: config.restWeightBudget,
  });
  return {
    role: "query",
    registry,
    readiness,
    engine: query.engine,
    degradation,
    ...(books ? { books } : {}),
    // No ledger here: holes are judged by the archive. REST spot checks when a request asks.
    certify: (table: CertTable, symbol: string, date: string, spotPages: number) =>
      certify(
        { dataDir: config.dataDir, duck: query.engine.duck, archiveRoot: config.archiveUrl, rest },
        table,
        symbol,
        date,
        spotPages,
      ),
    stop: once(async () => {
      timers.clear();
      await tail?.stop();
      await bus?.stop();
      await listing?.catch(() => {});
      mirror?.stop();
      await query.stop();
      watch.stop();
    }),
  };
}
