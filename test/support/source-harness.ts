/**
 * The ingest half of K2 (source → decode → continuity → ring, plus REST gap repair) against the
 * real simulator over loopback sockets, with a consumer that records every row leaving the ring.
 * Used by the source tests; the whole process (with storage) is exercised in test/process.
 */
import type { WsClientKind } from "../../src/config/keys.ts";
import { SymbolLookup } from "../../src/decode/binance/index.ts";
import { GapLedger } from "../../src/ingest/gap-ledger.ts";
import { GapRepairer } from "../../src/ingest/gap-repair.ts";
import { FrameTag, Ingest } from "../../src/ingest/ingest.ts";
import { Sequencer } from "../../src/ingest/sequencer.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { TABLE_BY_ID } from "../../src/model/tables.ts";
import { Backoff } from "../../src/resilience/backoff.ts";
import { CircuitBreaker } from "../../src/resilience/circuit-breaker.ts";
import { ConnectionPacer } from "../../src/resilience/pacer.ts";
import { DeadLetterBuffer } from "../../src/ring/dead-letter.ts";
import { Ring } from "../../src/ring/ring.ts";
import { type SimOptionsInput, type Simulator, startSimulator } from "../../src/sim/index.ts";
import { nowUs } from "../../src/source/binance/connection.ts";
import { BinanceRest, type RestOptions } from "../../src/source/binance/rest.ts";
import { BinanceSource, type LifecycleEvent } from "../../src/source/binance/source.ts";
import { type StreamKind, shardStreams, streamNames } from "../../src/source/binance/streams.ts";

export interface HarnessOptions {
  symbols?: string[];
  kinds?: StreamKind[];
  sim?: SimOptionsInput;
  dataTimeoutMs?: number;
  rotateAfterMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  connectMinIntervalMs?: number;
  streamsPerConnection?: number;
  ringCapacity?: number;
  /** Which WebSocket client the source uses (K2_WS_CLIENT); K2's default when absent. */
  client?: WsClientKind;
  /** REST client options over the harness's defaults (budget, window, timeouts). */
  rest?: Partial<Omit<RestOptions, "baseUrl">>;
}

export interface Harness {
  sim: Simulator;
  source: BinanceSource;
  ingest: Ingest;
  ledger: GapLedger;
  repairer: GapRepairer;
  rest: BinanceRest;
  symbols: SymbolTable;
  events: (LifecycleEvent & { atMs: number })[];
  /** Ids that left the ring, per "table:SYMBOL", in arrival order. */
  seen: Map<string, number[]>;
  /** Ids that left the ring more than once (must stay empty). */
  repeats: string[];
  drain(): void;
  ids(table: string, symbol: string): number[];
  /**
   * Pause the market, wait until every trade and aggTrade it generated that the socket or REST
   * can deliver reached the ring (repairs included), and drain. The market stays paused: call
   * `resume()` to go on (the schedule resumes without a burst).
   */
  catchUp(timeoutMs?: number): Promise<void>;
  resume(): void;
  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const symbolsList = o.symbols ?? ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
  // The market starts paused and resumes once every connection is open: the first trade the
  // source sees is the first one generated, so a test can compare with the whole ground truth.
  const sim = await startSimulator({
    symbols: symbolsList,
    ratePerSec: 50,
    seed: 7,
    ...o.sim,
    faults: { paused: true, ...o.sim?.faults },
  });
  const symbols = new SymbolTable(symbolsList);
  const lookup = new SymbolLookup(symbols);
  const ring = new Ring(o.ringCapacity ?? 1 << 16);
  const ledger = new GapLedger();
  const rest = new BinanceRest({ baseUrl: sim.restUrl, timeoutMs: 2000, banBackoffMs: 500, ...o.rest });
  const breaker = new CircuitBreaker({ name: "rest", failureThreshold: 5, openDurationMs: 300 });
  const events: (LifecycleEvent & { atMs: number })[] = [];
  let source: BinanceSource | undefined;
  let ingest: Ingest | undefined;
  const repairer = new GapRepairer({
    rest,
    ledger,
    breaker,
    emit: (frame, recv) => ingest?.onFrame(frame, recv, -1, FrameTag.REST),
    maxAttempts: 6,
    retryDelayMs: (n) => Math.min(400, 50 * 2 ** n),
    nowUs,
  });
  ingest = new Ingest({
    ring,
    lookup,
    symbols,
    sequencer: new Sequencer(),
    ledger,
    deadLetters: new DeadLetterBuffer({ maxEntries: 10_000 }),
    onGap: (g) => repairer.enqueue(g),
    onServerShutdown: (shard) => source?.rotate(shard, "serverShutdown"),
    gapMaxIds: 1_000_000,
    nowUs,
  });
  const streams = streamNames(symbolsList, o.kinds ?? ["trade", "aggTrade", "bookTicker"]);
  const pacer = new ConnectionPacer({ minIntervalMs: o.connectMinIntervalMs ?? 0, maxPerWindow: 300 });
  source = new BinanceSource(
    {
      wsUrl: sim.wsUrl,
      shards: shardStreams(streams, o.streamsPerConnection ?? 1024),
      dataTimeoutMs: o.dataTimeoutMs ?? 5000,
      rotateAfterMs: o.rotateAfterMs ?? 3_600_000,
      healthyAfterMs: 60_000,
      ...(o.client ? { client: o.client } : {}),
      newBackoff: () => new Backoff({ baseMs: o.reconnectBaseMs ?? 50, capMs: o.reconnectMaxMs ?? 400 }),
      gate: pacer,
    },
    {
      onFrame: (f, recv, shard) => ingest?.onFrame(f, recv, shard),
      onFrameBytes: (f, start, end, recv, shard) => ingest?.onFrameBytes(f, start, end, recv, shard) ?? false,
      onBinary: (f, recv, shard) => ingest?.onBinary(f, recv, shard),
      onLifecycle: (ev) => events.push({ ...ev, atMs: performance.now() }),
    },
  );
  const seen = new Map<string, number[]>();
  const maxSeen = new Map<string, number>();
  const all = new Map<string, Set<number>>();
  const repeats: string[] = [];
  const drain = () => {
    ring.drain(1 << 20, (rows, slot) => {
      const key = `${TABLE_BY_ID[rows.kind[slot] as 1 | 2 | 3]}:${symbols.name(rows.symbol_id[slot]!)}`;
      const id = rows.id[slot]!;
      let set = all.get(key);
      if (!set) {
        set = new Set();
        all.set(key, set);
        seen.set(key, []);
      }
      if (set.has(id)) repeats.push(`${key}:${id}`);
      set.add(id);
      if (id > (maxSeen.get(key) ?? -1)) maxSeen.set(key, id);
      seen.get(key)!.push(id);
    });
  };
  const timer = setInterval(drain, 5);
  source.start();
  const waitFor = async (cond: () => boolean, timeoutMs: number, what: string) => {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (performance.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await Bun.sleep(10);
    }
  };
  await waitFor(
    () => sim.stats().connections >= source!.shardCount && source!.shardStatus().every((st) => st.open),
    5000,
    "every connection open",
  );
  if (o.sim?.faults?.paused !== true) sim.faults.pause(false);
  const kinds = o.kinds ?? ["trade", "aggTrade", "bookTicker"];
  const h: Harness = {
    sim,
    source,
    ingest,
    ledger,
    repairer,
    rest,
    symbols,
    events,
    seen,
    repeats,
    drain,
    ids: (table, symbol) => [...(seen.get(`${table}:${symbol}`) ?? [])].sort((a, b) => a - b),
    waitFor,
    async catchUp(timeoutMs = 10_000) {
      sim.faults.pause(true);
      for (const symbol of symbolsList) {
        const truth = sim.groundTruth().symbols[symbol];
        if (kinds.includes("trade")) {
          const last = deliverableIds(sim, symbol, 0, Number.MAX_SAFE_INTEGER).at(-1) ?? -1;
          await waitFor(
            () => (maxSeen.get(`trades:${symbol}`) ?? -1) >= last,
            timeoutMs,
            `trade #${last} of ${symbol}`,
          );
        }
        if (kinds.includes("aggTrade")) {
          const last = truth?.aggIds.at(-1)?.[1] ?? -1;
          await waitFor(
            () => (maxSeen.get(`agg_trades:${symbol}`) ?? -1) >= last,
            timeoutMs,
            `aggTrade #${last} of ${symbol}`,
          );
        }
      }
      await waitFor(() => repairer.backlog === 0, timeoutMs, "repair backlog to drain");
      drain();
    },
    resume: () => sim.faults.pause(false),
    async stop() {
      source?.stop();
      repairer.stop();
      clearInterval(timer);
      await sim.stop();
    },
  };
  return h;
}

/** Ground-truth trade ids of `symbol` in [from, to] that the socket or REST can deliver. */
export function deliverableIds(sim: Simulator, symbol: string, from: number, to: number): number[] {
  const t = sim.groundTruth().symbols[symbol];
  if (!t) return [];
  const missing = new Set<number>();
  for (const [a, b] of t.missingAtSourceTradeIds)
    for (let i = Math.max(a, from); i <= Math.min(b, to); i++) missing.add(i);
  const out: number[] = [];
  for (const [a, b] of t.tradeIds)
    for (let i = Math.max(a, from); i <= Math.min(b, to); i++) if (!missing.has(i)) out.push(i);
  return out;
}
