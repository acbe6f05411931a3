/**
 * A recorder's closed klines onto the bus (docs/SCALING.md "Completeness in the roles"): each
 * closed 1m kline is encoded (bus/kline-codec.ts) and published on `k2.klines.<shard>.<SYMBOL>`,
 * where the writer of the symbol's shard judges the minute. Not through the WAL: one message a
 * minute per symbol, and a kline lost here (the cluster away longer than the retries) is a minute
 * without a verdict, not lost market data — REST `/api/v3/klines` still has it. Counted in
 * `failed`; the in-flight bound keeps an outage from piling up publishes.
 */
import { encodeKline, klineMsgId, klineSubjectOf } from "../bus/index.ts";
import type { KlineColumns } from "../model/kline.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import type { Bus } from "./bus.ts";

/**
 * Publishes tried per message sent outside the WAL path (a kline here, a writer's repaired rows in
 * roles/writer-repair.ts), 1 s apart, before it is given up.
 */
export const SIDE_PUBLISH_TRIES = 5;
export const SIDE_PUBLISH_RETRY_MS = 1000;
/** Klines being published at once; more are given up at once (counted): ~4 minutes of 60 symbols. */
const KLINE_MAX_IN_FLIGHT = 256;

export function openKlinePublisher(d: {
  readonly bus: Bus;
  readonly symbols: SymbolTable;
  readonly shards: number;
  readonly recorderId: string;
  readonly log: Logger;
}) {
  const stats = { published: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const publish = async (symbol: string, openUs: number, body: Uint8Array) => {
    const subject = klineSubjectOf(symbol, d.shards);
    const msgID = klineMsgId(d.recorderId, symbol, openUs);
    for (let attempt = 1; ; attempt++) {
      try {
        await d.bus.js.publish(subject, body, { msgID });
        stats.published++;
        return;
      } catch (e) {
        if (attempt >= SIDE_PUBLISH_TRIES || stopped) {
          stats.failed++;
          d.log.warn(
            { symbol, open_time_us: openUs, attempts: attempt },
            `closed kline not published (its minute gets no verdict): ${(e as Error).message}`,
          );
          return;
        }
        await Bun.sleep(SIDE_PUBLISH_RETRY_MS);
      }
    }
  };

  return {
    stats,
    /** Ingest's onKline: only closed minutes are published; the columns are copied at once. */
    push(k: KlineColumns, slot: number): void {
      if (k.closed[slot] !== 1 || stopped) return;
      const symbol = d.symbols.name(k.symbol_id[slot]!);
      if (inFlight.size >= KLINE_MAX_IN_FLIGHT) {
        stats.failed++;
        d.log.warn({ symbol }, "closed kline not published: too many in flight (the cluster away?)");
        return;
      }
      const p = publish(symbol, k.open_time_us[slot]!, encodeKline(k, slot)).finally(() =>
        inFlight.delete(p),
      );
      inFlight.add(p);
    },
    /** Wait for the publishes in flight (they give up after their tries). */
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(inFlight);
    },
  };
}
