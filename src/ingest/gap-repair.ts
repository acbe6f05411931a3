/**
 * Gap repair: fetch the ids the socket never delivered from REST, page by page, and feed them back
 * into the pipeline as frames in Binance's own stream shape (so the WAL, the decoder and the sink
 * treat them exactly like live ones). Each gap ends in the ledger as repaired, missing at source
 * (REST confirms the ids do not exist: it answers from a later id), or unrepaired (the attempt
 * budget is spent). Requests go through a circuit breaker; 429/418 waits are the REST client's.
 */
import type { BinanceRest, RestAggTrade, RestTrade } from "../source/binance/rest.ts";
import type { GapEntry, GapLedger, GapState } from "./gap-ledger.ts";

export interface Breaker {
  exec<T>(fn: () => Promise<T>): Promise<T>;
}

export interface RepairOptions {
  readonly rest: BinanceRest;
  readonly ledger: GapLedger;
  /** Feed one synthetic frame (µs times) into the pipeline, as from the REST source. */
  readonly emit: (frame: string, recvTimeUs: number) => void;
  readonly breaker?: Breaker;
  readonly maxAttempts?: number;
  readonly retryDelayMs?: (attempt: number) => number;
  readonly nowUs: () => number;
  readonly onError?: (e: Error, gap: GapEntry) => void;
  /**
   * False while repaired rows could not be stored anyway (disk failing, ring nearly full): wait.
   * Asked before every page, not only every gap: a page is up to 1000 rows at once, and rows the
   * ring refuses would be ledgered as a new gap and fetched again.
   */
  readonly canRepair?: () => boolean;
}

/** Synthetic stream frames. REST trade times are ms; E (event time) is set to the trade time. */
export function tradeFrame(symbol: string, t: RestTrade): string {
  const us = t.time * 1000;
  return `{"e":"trade","E":${us},"s":"${symbol}","t":${t.id},"p":"${t.price}","q":"${t.qty}","T":${us},"m":${t.isBuyerMaker},"M":true}`;
}

export function aggTradeFrame(symbol: string, a: RestAggTrade): string {
  const us = a.T * 1000;
  return `{"e":"aggTrade","E":${us},"s":"${symbol}","a":${a.a},"p":"${a.p}","q":"${a.q}","f":${a.f},"l":${a.l},"T":${us},"m":${a.m},"M":true}`;
}

type Part = { from: number; to: number; state: GapState; detail: string };

/** How often a repair waiting for canRepair asks again. */
const REPAIRABLE_POLL_MS = 50;

export class GapRepairer {
  readonly #queue: GapEntry[] = [];
  #running = false;
  #stopped = false;
  repairedIds = 0;
  missingIds = 0;
  /** Resolves when the queue is empty (for tests and graceful drain). */
  #idle: Array<() => void> = [];

  constructor(readonly opts: RepairOptions) {}

  enqueue(gap: GapEntry): void {
    this.#queue.push(gap);
    if (!this.#running) void this.#run();
  }

  get backlog(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  stop(): void {
    this.#stopped = true;
  }

  whenIdle(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      for (let gap = this.#queue.shift(); gap && !this.#stopped; gap = this.#queue.shift()) {
        await this.#whenRepairable();
        await this.#repair(gap);
      }
    } finally {
      this.#running = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }

  async #repair(gap: GapEntry): Promise<void> {
    const { ledger, nowUs } = this.opts;
    const maxAttempts = this.opts.maxAttempts ?? 8;
    ledger.set(gap, "repairing", nowUs());
    const parts: Part[] = [];
    let cursor = gap.from_id;
    while (cursor <= gap.to_id && !this.#stopped) {
      await this.#whenRepairable();
      if (this.#stopped) break;
      let page: { id: number; frame: string }[];
      try {
        page = await this.#page(gap, cursor);
      } catch (e) {
        gap.attempts++;
        this.opts.onError?.(e as Error, gap);
        if (gap.attempts >= maxAttempts) {
          parts.push({ from: cursor, to: gap.to_id, state: "unrepaired", detail: (e as Error).message });
          cursor = gap.to_id + 1;
          break;
        }
        await Bun.sleep(this.opts.retryDelayMs?.(gap.attempts) ?? Math.min(30_000, 250 * 2 ** gap.attempts));
        continue;
      }
      const first = page[0];
      if (!first) {
        // REST has nothing at or after the cursor: those ids do not exist at the source.
        parts.push({
          from: cursor,
          to: gap.to_id,
          state: "missing_at_source",
          detail: "REST returned no rows",
        });
        cursor = gap.to_id + 1;
        break;
      }
      for (const row of page) {
        if (row.id < cursor) continue; // REST may repeat the cursor row on some paths
        if (row.id > gap.to_id) {
          // REST answers from beyond the gap: the rest of the gap does not exist at the source.
          parts.push({
            from: cursor,
            to: gap.to_id,
            state: "missing_at_source",
            detail: "REST skipped these ids",
          });
          cursor = gap.to_id + 1;
          break;
        }
        if (row.id > cursor) {
          parts.push({
            from: cursor,
            to: row.id - 1,
            state: "missing_at_source",
            detail: "REST skipped these ids",
          });
        }
        this.opts.emit(row.frame, nowUs());
        this.repairedIds++;
        this.#extend(parts, row.id);
        cursor = row.id + 1;
      }
    }
    if (this.#stopped && cursor <= gap.to_id) {
      parts.push({ from: cursor, to: gap.to_id, state: "pending", detail: "stopped before repair finished" });
    }
    for (const p of parts) if (p.state === "missing_at_source") this.missingIds += p.to - p.from + 1;
    ledger.resolve(gap, parts, nowUs());
  }

  async #whenRepairable(): Promise<void> {
    while (this.opts.canRepair && !this.opts.canRepair() && !this.#stopped)
      await Bun.sleep(REPAIRABLE_POLL_MS);
  }

  /** Grow the current "repaired" run or start a new one. */
  #extend(parts: Part[], id: number): void {
    const last = parts[parts.length - 1];
    if (last && last.state === "repaired" && last.to === id - 1) last.to = id;
    else parts.push({ from: id, to: id, state: "repaired", detail: "from REST" });
  }

  async #page(gap: GapEntry, fromId: number): Promise<{ id: number; frame: string }[]> {
    const { rest, breaker } = this.opts;
    const limit = Math.min(1000, gap.to_id - fromId + 1);
    const call =
      gap.table === "trades"
        ? async () =>
            (await rest.historicalTrades(gap.symbol, fromId, limit)).map((t) => ({
              id: t.id,
              frame: tradeFrame(gap.symbol, t),
            }))
        : async () =>
            (await rest.aggTrades(gap.symbol, fromId, limit)).map((a) => ({
              id: a.a,
              frame: aggTradeFrame(gap.symbol, a),
            }));
    return breaker ? breaker.exec(call) : call();
  }
}
