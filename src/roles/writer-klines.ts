/**
 * A writer's kline verdicts (docs/SCALING.md "Completeness in the roles"): the closed klines its
 * shard's recorders publish (pipeline/bus-klines.ts) are judged with the single process's
 * KlineReconciler over this writer's catalog — it owns the symbols' trade files, so it knows when
 * a minute's last id is in a committed file — and the verdicts land in the shared folder's
 * `completeness/klines/`, where query nodes' certificates and `k2 verify` read them. Two
 * recorders publish each kline; the minute is judged once, keyed by (symbol, open time).
 *
 * No gap ledger and no REST here (both are the recorders'): a shortfall is a `mismatch` with the
 * alarm metric once KLINE_UNREPAIRED_GRACE_US has passed, not a repair.
 */
import { decodeKline, type KlineMessage } from "../bus/index.ts";
import type { Catalog } from "../catalog/index.ts";
import { fileSourceOf } from "../catalog/views.ts";
import { KlineReconciler } from "../completeness/index.ts";
import type { Config } from "../config/index.ts";
import { allocKlineColumns } from "../model/kline.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import type { Registry } from "../obs/metrics.ts";
import { once } from "../pipeline/subsystem.ts";
import { Duck } from "../query/duck.ts";
import { nowUs } from "../source/binance/connection.ts";

/** Minutes remembered per symbol as judged or queued: a copy older than this is judged again. */
const SEEN_MINUTES = 240;

export async function openWriterKlines(d: {
  readonly config: Config;
  readonly log: Logger;
  readonly catalog: Catalog;
  readonly symbols: SymbolTable;
  readonly registry: Registry;
}) {
  // The reconciler reads a minute's few hundred rows: one small connection is enough.
  const duck = await Duck.open({
    threads: 1,
    memoryLimitMb: d.config.queryMemoryMb,
    allocatorKeepMb: d.config.queryAllocatorKeepMb,
    connections: 1,
    maxQueued: 64,
  });
  const reconciler = new KlineReconciler({
    dataDir: d.config.dataDir,
    symbols: d.symbols,
    files: fileSourceOf(d.catalog, () => d.symbols.names()),
    duck,
    gapMaxIds: d.config.gapMaxIds,
    nowUs,
    log: d.log,
    registry: d.registry,
  });
  const slot = allocKlineColumns(1);
  /** Per symbol, the open times already queued (the other recorder's copy is dropped). */
  const seen = new Map<string, Set<number>>();
  const stats = { received: 0, duplicates: 0 };
  d.registry.counter("k2_kline_copies_total", "closed klines received from recorders", () => stats.received);
  d.registry.counter(
    "k2_kline_duplicates_dropped_total",
    "closed klines already queued (another recorder's copy, a redelivery)",
    () => stats.duplicates,
  );

  return {
    name: "kline-verdicts",
    stats,
    reconciler,
    checks: {},
    /** One recorder's copy of a closed kline; throws (BusError "malformed") on a bad body. */
    onKline(m: KlineMessage): void {
      decodeKline(m.body, slot, 0, d.symbols.intern(m.symbol));
      if (slot.closed[0] !== 1) return;
      stats.received++;
      const open = slot.open_time_us[0]!;
      const s = seen.get(m.symbol) ?? new Set<number>();
      seen.set(m.symbol, s);
      if (s.has(open)) {
        stats.duplicates++;
        return;
      }
      s.add(open);
      // Insertion order is arrival order: the oldest goes first.
      if (s.size > SEEN_MINUTES) s.delete(s.values().next().value!);
      reconciler.push(slot, 0);
    },
    start() {
      reconciler.start();
    },
    stop: once(async () => {
      await reconciler.stop();
      duck.close();
    }),
  };
}
