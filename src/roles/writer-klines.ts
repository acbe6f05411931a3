/**
 * A writer's kline verdicts (docs/SCALING.md "Completeness in the roles"): the closed klines its
 * shard's recorders publish (pipeline/bus-klines.ts) are judged with the single process's
 * KlineReconciler over this writer's catalog — it owns the symbols' trade files, so it knows when
 * a minute's last id is in a committed file — and the verdicts land in the shared folder's
 * `completeness/klines/`, where query nodes' certificates and `k2 verify` read them. Two
 * recorders publish each kline; the minute is judged once, keyed by (symbol, open time).
 *
 * REST, as a single process has it, with the writer's own client (K2_BINANCE_REST_URL, its own
 * K2_REST_WEIGHT_BUDGET): a shortfall still there KLINE_UNREPAIRED_GRACE_US after the kline (the
 * recorders' own repairs had their time) is repaired through the shard's bus (writer-repair.ts);
 * minutes whose klines never came (a restart, every recorder down) are fetched from
 * `/api/v3/klines` and judged like live ones once the klines go on after the hole.
 */
import type { KlineMessage } from "../bus/index.ts";
import { decodeKline } from "../bus/index.ts";
import type { Catalog } from "../catalog/index.ts";
import { fileSourceOf } from "../catalog/views.ts";
import { KlineReconciler } from "../completeness/index.ts";
import { missedMinutes } from "../completeness/kline-missed.ts";
import { KLINE_UNREPAIRED_GRACE_US } from "../completeness/kline-reconciler.ts";
import type { Config } from "../config/index.ts";
import { allocKlineColumns } from "../model/kline.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import type { Registry } from "../obs/metrics.ts";
import type { Bus } from "../pipeline/bus.ts";
import { once } from "../pipeline/subsystem.ts";
import { Duck } from "../query/duck.ts";
import { nowUs } from "../source/binance/connection.ts";
import { QueuedMinutes } from "./kline-minutes.ts";
import { openWriterRepair } from "./writer-repair.ts";

/**
 * Missed minutes are asked for this long after the kline that revealed them: the other
 * recorder's copy of a minute in the hole may still be on its way (then it is judged live).
 */
const CATCH_UP_DELAY_MS = 15_000;
/** A failed catch-up (REST refused or unreachable) is tried again this much later, this often. */
const CATCH_UP_RETRY_MS = 60_000;
const CATCH_UP_TRIES = 10;

export async function openWriterKlines(d: {
  readonly config: Config;
  readonly log: Logger;
  readonly catalog: Catalog;
  readonly symbols: SymbolTable;
  readonly registry: Registry;
  readonly bus: Bus;
  /** This writer's shard name (writer-<i>-of-<N>): its repaired batches' msg-id prefix. */
  readonly writerName: string;
}) {
  // The reconciler reads a minute's few hundred rows: one small connection is enough.
  const duck = await Duck.open({
    threads: 1,
    memoryLimitMb: d.config.queryMemoryMb,
    allocatorKeepMb: d.config.queryAllocatorKeepMb,
    connections: 1,
    maxQueued: 64,
  });
  const fixer = openWriterRepair(d);
  const reconciler = new KlineReconciler({
    dataDir: d.config.dataDir,
    symbols: d.symbols,
    files: fileSourceOf(d.catalog, () => d.symbols.names()),
    duck,
    repair: fixer.repair,
    repairAfterUs: KLINE_UNREPAIRED_GRACE_US,
    gapMaxIds: d.config.gapMaxIds,
    nowUs,
    log: d.log,
    registry: d.registry,
    rest: fixer.rest,
    catchUpAtStart: false,
  });
  const slot = allocKlineColumns(1);
  const queued = new QueuedMinutes();
  const stats = { received: 0, duplicates: 0 };
  d.registry.counter("k2_kline_copies_total", "closed klines received from recorders", () => stats.received);
  d.registry.counter(
    "k2_kline_duplicates_dropped_total",
    "closed klines already queued (another recorder's copy, a redelivery)",
    () => stats.duplicates,
  );

  /** Per symbol: the open time of the kline after a hole (the newest), and the tries left. */
  const holes = new Map<string, { liveOpenUs: number; tries: number }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let catching: Promise<void> | undefined;
  let stopped = false;
  const arm = (ms: number) => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      // One catch-up at a time: two could queue one minute twice.
      if (catching) return arm(CATCH_UP_DELAY_MS);
      catching = catchUp().finally(() => {
        catching = undefined;
      });
    }, ms);
  };
  /** The minutes before each hole's kline without a verdict and not queued here, from REST. */
  const catchUp = async () => {
    let retry = false;
    for (const [symbol, h] of [...holes]) {
      if (stopped) return;
      const opens = missedMinutes(d.config.dataDir, symbol, h.liveOpenUs).filter(
        (o) => !queued.has(symbol, o),
      );
      // Marked before the fetch: a live copy arriving meanwhile is dropped, not judged a second time.
      for (const o of opens) queued.add(symbol, o);
      try {
        await reconciler.queueMissed(symbol, opens);
        // A newer hole of the symbol found meanwhile stays for the next round.
        if (holes.get(symbol) === h) holes.delete(symbol);
      } catch (e) {
        for (const o of opens) queued.forget(symbol, o);
        d.log.warn(
          { symbol, tries_left: h.tries - 1 },
          `kline catch-up from REST failed: ${(e as Error).message}`,
        );
        if (--h.tries <= 0 && holes.get(symbol) === h) holes.delete(symbol);
        else retry = true;
      }
    }
    if (holes.size > 0) arm(retry ? CATCH_UP_RETRY_MS : CATCH_UP_DELAY_MS);
  };

  return {
    name: "kline-verdicts",
    stats,
    reconciler,
    repair: fixer.stats,
    checks: {},
    /** One recorder's copy of a closed kline; throws (BusError "malformed") on a bad body. */
    onKline(m: KlineMessage): void {
      decodeKline(m.body, slot, 0, d.symbols.intern(m.symbol));
      if (slot.closed[0] !== 1) return;
      stats.received++;
      const open = slot.open_time_us[0]!;
      const arrival = queued.note(m.symbol, open);
      if (arrival === "copy") {
        stats.duplicates++;
        return;
      }
      reconciler.push(slot, 0);
      if (arrival === "after_hole") {
        const h = holes.get(m.symbol);
        holes.set(m.symbol, { liveOpenUs: Math.max(open, h?.liveOpenUs ?? open), tries: CATCH_UP_TRIES });
        arm(CATCH_UP_DELAY_MS);
      }
    },
    start() {
      reconciler.start();
    },
    stop: once(async () => {
      stopped = true;
      clearTimeout(timer);
      await catching;
      await reconciler.stop();
      await fixer.stop();
      duck.close();
    }),
  };
}
