/**
 * One global generator per symbol: a seeded random walk that advances with the simulator clock, so
 * every connection and REST see the same history (a trade id means the same trade for everyone).
 * Trade k's content depends only on (seed, symbol, k); its time is the schedule
 * start + k/rate, so with a fixed start time the whole history is reproducible.
 */
import { type BookConfig, SymbolBook } from "./book.ts";
import { type Fill, OrderFlow } from "./book-flow.ts";
import type { DepthTick } from "./depth-feed.ts";
import { TruthLedger } from "./ground-truth.ts";
import { type AggRecord, TradeHistory, type TradeRecord } from "./history.ts";
import { KlineBuilder, type KlineRecord } from "./klines.ts";
import { profileFor, type SymbolProfile } from "./market.ts";
import { createRng, hashSeed, type Rng } from "./rng.ts";

export interface BookTickerRecord {
  updateId: number;
  bidScaled: number;
  bidQtyScaled: number;
  askScaled: number;
  askQtyScaled: number;
}

/** What one tick produced for sockets (withheld events are already left out). */
export interface TickBatch {
  trades: TradeRecord[];
  aggs: AggRecord[];
  books: BookTickerRecord[];
  /** Closed 1m klines (every trade counted, withheld ones too) and, at most once a second, the open one. */
  klines: KlineRecord[];
  /** Book mode: diff events and partial-depth publications due this tick. */
  depth?: DepthTick | null;
}

/** Receives every generated trade and aggTrade (withheld ones too): the simulator's archive. */
export interface TradeRecorder {
  trade(id: number, priceScaled: number, qtyScaled: number, timeUs: number, buyerMaker: boolean): void;
  agg(a: AggRecord): void;
}

export interface GeneratorConfig {
  seed: number;
  startTradeId: number;
  startAggId: number;
  startUpdateId: number;
  ratePerSec: number;
  historyLimit: number;
  /** Book mode (see book.ts): trades are fills against a real book; off = the trade-only walk. */
  books?: boolean;
  bookMaxLevels?: number;
  bookOrdersPerTrade?: number;
  bookTruthMs?: number;
}

/** Book mode's defaults (also the simulator options' defaults, see options.ts). */
export const BOOK_DEFAULTS: Readonly<BookConfig> = Object.freeze({
  maxLevels: 5000,
  ordersPerTrade: 8,
  truthMs: 600_000,
});

export class SymbolGenerator {
  readonly profile: SymbolProfile;
  readonly history: TradeHistory;
  readonly truth = new TruthLedger();
  readonly klines: KlineBuilder;
  /** Book mode only: the symbol's order book (null in the trade-only mode). */
  readonly book: SymbolBook | null = null;
  private readonly flow: OrderFlow | null = null;
  /** Book mode: when the previous marketable order was (limit orders of a group come after it). */
  private lastGroupUs: number;
  /** Book mode: one group's fills, reused. */
  private readonly fills: Fill[] = [];
  /** Set while the archive's history is generated (see archive-store.ts). */
  recorder: TradeRecorder | null = null;
  private readonly rng: Rng;
  private nextTradeId: number;
  private nextAggId: number;
  private updateId: number;
  private priceTicks: number;
  /** Trades generated so far: drives the schedule (lost ids take no time). */
  private produced = 0;
  /** The schedule: trade `produced` is due at startUs + (produced - producedAtStart) / rate. */
  private producedAtStart = 0;
  private rate: number;
  private pendingSkip = 0;
  private pendingLose = 0;

  constructor(
    readonly symbol: string,
    cfg: GeneratorConfig,
    private startUs: number,
  ) {
    this.profile = profileFor(symbol);
    this.history = new TradeHistory(cfg.historyLimit);
    this.rng = createRng(hashSeed(cfg.seed, symbol));
    this.nextTradeId = cfg.startTradeId;
    this.nextAggId = cfg.startAggId;
    this.updateId = cfg.startUpdateId;
    this.priceTicks = this.profile.initialTicks;
    this.rate = cfg.ratePerSec;
    this.klines = new KlineBuilder(this.priceTicks * this.profile.tickScaled);
    this.klines.startAt(startUs);
    this.lastGroupUs = startUs;
    if (cfg.books) {
      const bookCfg: BookConfig = {
        maxLevels: cfg.bookMaxLevels ?? BOOK_DEFAULTS.maxLevels,
        ordersPerTrade: cfg.bookOrdersPerTrade ?? BOOK_DEFAULTS.ordersPerTrade,
        truthMs: cfg.bookTruthMs ?? BOOK_DEFAULTS.truthMs,
      };
      this.book = new SymbolBook(symbol, cfg.startUpdateId, startUs, bookCfg);
      this.flow = new OrderFlow(this.book, this.profile, this.rng, bookCfg.ordersPerTrade);
      this.flow.seed();
      this.book.seal();
    }
  }

  /** From `atUs` on, generate at `ratePerSec` (the archive's history may run at its own rate). */
  rebase(atUs: number, ratePerSec: number): void {
    this.startUs = atUs;
    this.lastGroupUs = Math.max(this.lastGroupUs, atUs);
    this.producedAtStart = this.produced;
    this.rate = ratePerSec;
  }

  /** When the next trade is due: every trade before it has been generated. */
  nextTradeTimeUs(): number {
    return this.startUs + Math.floor(((this.produced - this.producedAtStart) * 1e6) / this.rate);
  }

  /** Withhold the next `count` trades from sockets, rounded up to whole aggTrades. */
  skip(count: number): void {
    this.pendingSkip += count;
  }

  /** The next `count` trade ids will never exist. */
  lose(count: number): void {
    this.pendingLose += count;
  }

  /** Generate every aggTrade whose scheduled time is <= nowUs, at most ~maxTrades trades. */
  advance(nowUs: number, maxTrades: number, out: TickBatch): void {
    const due = this.producedAtStart + Math.floor(((nowUs - this.startUs) * this.rate) / 1e6);
    const limit = Math.min(due, this.produced + maxTrades);
    while (this.produced < limit) this.group(out);
  }

  /** One taker order: 1-4 trades at one price and side, i.e. one aggTrade (Binance's aggregation rule). */
  private group(out: TickBatch): void {
    if (this.flow) {
      this.bookGroup(this.flow, out);
      return;
    }
    const rng = this.rng;
    const p = this.profile;
    this.loseIds();
    const r = rng.next();
    const n = r < 0.6 ? 1 : r < 0.85 ? 2 : r < 0.95 ? 3 : 4;
    const timeUs = this.nextTradeTimeUs();
    this.walk();
    const priceScaled = this.priceTicks * p.tickScaled;
    const buyerMaker = rng.next() < 0.5;
    const withheld = this.pendingSkip > 0;
    if (withheld) this.pendingSkip = Math.max(0, this.pendingSkip - n);
    // Inline rather than emitAgg (the book mode's): this is the max-rate benchmark's hot path and
    // drawing the quantities into an array first looked up to ~5% slower (2M trades, noisy machine).
    const firstId = this.nextTradeId;
    let qtySum = 0;
    for (let j = 0; j < n; j++) {
      const u = rng.next();
      const qtyScaled = p.stepScaled * (1 + Math.floor(u * u * u * 2000));
      qtySum += qtyScaled;
      this.#trade(priceScaled, qtyScaled, timeUs, buyerMaker, withheld, out);
    }
    this.noteAgg(firstId, priceScaled, qtySum, timeUs, buyerMaker, withheld, out);
    this.produced += n;
    // The taker hit the bid when the buyer was maker, so the bid sits at the trade price.
    this.updateId += 1 + rng.int(3);
    const bidTicks = buyerMaker ? this.priceTicks : Math.max(1, this.priceTicks - 1);
    out.books.push({
      updateId: this.updateId,
      bidScaled: bidTicks * p.tickScaled,
      bidQtyScaled: p.stepScaled * (1 + rng.int(5000)),
      askScaled: (bidTicks + 1) * p.tickScaled,
      askQtyScaled: p.stepScaled * (1 + rng.int(5000)),
    });
  }

  /** Book mode: limit orders and cancels, then one marketable order whose fills are the trades. */
  private bookGroup(flow: OrderFlow, out: TickBatch): void {
    this.loseIds();
    const timeUs = this.nextTradeTimeUs();
    const fills = this.fills;
    fills.length = 0;
    const buyerMaker = flow.group(this.lastGroupUs, timeUs, out.books, fills);
    this.lastGroupUs = timeUs;
    const withheld = this.pendingSkip > 0;
    let n = 0;
    for (const f of fills) n += this.emitAgg(f.priceScaled, f.qtys, timeUs, buyerMaker, withheld, out);
    if (withheld) this.pendingSkip = Math.max(0, this.pendingSkip - n);
    // A group always fills (OrderFlow refills an empty side first); counting a slot regardless
    // keeps advance()'s loop finite should a corner case ever fill nothing.
    this.produced += Math.max(1, n);
  }

  private loseIds(): void {
    if (this.pendingLose > 0) {
      this.truth.missingAtSource.addRange(this.nextTradeId, this.nextTradeId + this.pendingLose - 1);
      this.nextTradeId += this.pendingLose;
      this.pendingLose = 0;
    }
  }

  /** One aggTrade of `qtys.length` trades at one price: history, klines, archive, truth, sockets. */
  private emitAgg(
    priceScaled: number,
    qtys: readonly number[],
    timeUs: number,
    buyerMaker: boolean,
    withheld: boolean,
    out: TickBatch,
  ): number {
    const firstId = this.nextTradeId;
    let qtySum = 0;
    for (const qtyScaled of qtys) {
      qtySum += qtyScaled;
      this.#trade(priceScaled, qtyScaled, timeUs, buyerMaker, withheld, out);
    }
    this.noteAgg(firstId, priceScaled, qtySum, timeUs, buyerMaker, withheld, out);
    return qtys.length;
  }

  /** The aggTrade of the trades firstId..nextTradeId-1: history, archive, truth, sockets. */
  /** One trade: history, klines, the recorder, and the frame unless withheld. */
  #trade(
    priceScaled: number,
    qtyScaled: number,
    timeUs: number,
    buyerMaker: boolean,
    withheld: boolean,
    out: TickBatch,
  ): void {
    const id = this.nextTradeId++;
    this.history.pushTrade(id, priceScaled, qtyScaled, timeUs, buyerMaker);
    this.klines.add(id, priceScaled, qtyScaled, timeUs, buyerMaker);
    this.recorder?.trade(id, priceScaled, qtyScaled, timeUs, buyerMaker);
    if (!withheld) out.trades.push({ id, priceScaled, qtyScaled, timeUs, buyerMaker });
  }

  private noteAgg(
    firstId: number,
    priceScaled: number,
    qtySum: number,
    timeUs: number,
    buyerMaker: boolean,
    withheld: boolean,
    out: TickBatch,
  ): void {
    const lastId = this.nextTradeId - 1;
    this.truth.trades.addRange(firstId, lastId);
    const agg: AggRecord = {
      aggId: this.nextAggId++,
      firstId,
      lastId,
      priceScaled,
      qtyScaled: qtySum,
      timeUs,
      buyerMaker,
    };
    this.history.pushAgg(agg);
    this.recorder?.agg(agg);
    this.truth.aggs.add(agg.aggId);
    if (withheld) {
      this.truth.withheldTrades.addRange(firstId, lastId);
      this.truth.withheldAggs.add(agg.aggId);
    } else {
      out.aggs.push(agg);
    }
  }

  /** Random walk of -2..+2 ticks, pulled back towards the start price so it stays in range. */
  private walk(): void {
    const start = this.profile.initialTicks;
    let step = this.rng.int(5) - 2;
    if (this.priceTicks > start * 2 && step > 0) step = -step;
    if (this.priceTicks < start / 2 && step < 0) step = -step;
    this.priceTicks = Math.max(1, this.priceTicks + step);
  }

  /** Move the schedule later by `us` (time spent paused), so resuming generates no backlog. */
  shiftSchedule(us: number): void {
    this.startUs += us;
    this.lastGroupUs += us;
  }

  /** Last trade id generated (or startTradeId - 1). */
  lastTradeId(): number {
    return this.nextTradeId - 1;
  }
}
