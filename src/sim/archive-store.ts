/**
 * The simulator's own history in Binance's public-archive layout. With `archiveDays` > 0 every
 * configured symbol's market starts that many whole UTC days before the day of the clock start
 * (at `archiveRatePerSec`), is generated up to the clock start when the simulator starts, and
 * each complete day is kept here: its trades, aggTrades and closed 1m klines. The live market
 * then continues from the same trade ids at `ratePerSec`. Days from the clock start's day on are
 * not archived (Binance publishes a day after it ends; a simulator run is far shorter than a day).
 * A calendar month whose every day is archived is served as a monthly file too (monthCsv).
 */
import { type ArchiveDataset, archiveMonthDays } from "../archive/index.ts";
import { AGG_COLS, aggTradesCsv, klinesCsv, TRADE_COLS, tradesCsv } from "./archive-csv.ts";
import type { SymbolGenerator, TickBatch, TradeRecorder } from "./generator.ts";
import type { AggRecord } from "./history.ts";
import type { KlineRecord } from "./klines.ts";

export const DAY_US = 86_400_000_000;

interface DayData {
  trades: number[];
  aggs: number[];
  klines: KlineRecord[];
}

/** YYYY-MM-DD of the UTC day containing `us`. */
export function utcDate(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);
}

class SymbolArchive implements TradeRecorder {
  readonly days = new Map<string, DayData>();

  private day(us: number): DayData {
    const d = utcDate(us);
    let data = this.days.get(d);
    if (!data) {
      data = { trades: [], aggs: [], klines: [] };
      this.days.set(d, data);
    }
    return data;
  }

  trade(id: number, priceScaled: number, qtyScaled: number, timeUs: number, buyerMaker: boolean): void {
    this.day(timeUs).trades.push(id, priceScaled, qtyScaled, timeUs, buyerMaker ? 1 : 0);
  }

  agg(a: AggRecord): void {
    this.day(a.timeUs).aggs.push(
      a.aggId,
      a.priceScaled,
      a.qtyScaled,
      a.firstId,
      a.lastId,
      a.timeUs,
      a.buyerMaker ? 1 : 0,
    );
  }

  kline(k: KlineRecord): void {
    this.day(k.openUs).klines.push(k);
  }
}

export class ArchiveStore {
  private readonly symbols = new Map<string, SymbolArchive>();

  constructor(
    /** First archived day's start and the clock start (exclusive end of generation), µs. */
    readonly fromUs: number,
    readonly untilUs: number,
  ) {}

  /** The UTC day start `archiveDays` whole days before the day of `clockStartUs`. */
  static historyStartUs(clockStartUs: number, archiveDays: number): number {
    return clockStartUs - (clockStartUs % DAY_US) - archiveDays * DAY_US;
  }

  /**
   * Generate `g`'s history from its schedule start up to untilUs, keeping every trade, aggTrade
   * and closed kline; then hand the generator to the live rate. Bounded work per step.
   */
  record(g: SymbolGenerator, liveRatePerSec: number): void {
    const a = new SymbolArchive();
    this.symbols.set(g.symbol, a);
    g.recorder = a;
    const batch: TickBatch = { trades: [], aggs: [], books: [], klines: [] };
    const klines: KlineRecord[] = [];
    // Until a step generates nothing more: every trade due before untilUs exists (a trade due
    // in the last instant before untilUs is left to the live schedule, which starts at untilUs).
    for (;;) {
      const before = g.nextTradeTimeUs();
      g.advance(this.untilUs - 1, 100_000, batch);
      batch.trades.length = 0;
      batch.aggs.length = 0;
      batch.books.length = 0;
      if (g.nextTradeTimeUs() === before) break;
    }
    g.recorder = null;
    g.klines.closeUntil(this.untilUs);
    g.klines.takeClosed(klines);
    for (const k of klines) a.kline(k);
    g.rebase(this.untilUs, liveRatePerSec);
  }

  /** Is `date` a complete archived day? */
  hasDay(date: string): boolean {
    const startUs = Date.parse(`${date}T00:00:00Z`) * 1000;
    return startUs >= this.fromUs && startUs + DAY_US <= this.untilUs;
  }

  /** The CSV of one archived day in blocks of lines, or null when the symbol or day is not archived. */
  csv(dataset: ArchiveDataset, symbol: string, date: string, dropLast = false): Generator<string> | null {
    const a = this.symbols.get(symbol);
    if (!a || !this.hasDay(date)) return null;
    const d = a.days.get(date) ?? { trades: [], aggs: [], klines: [] };
    const dayStartMs = Date.parse(`${date}T00:00:00Z`);
    if (dataset === "trades") return tradesCsv(d.trades, dayStartMs, dropLast);
    if (dataset === "aggTrades") return aggTradesCsv(d.aggs, dayStartMs, dropLast);
    return klinesCsv(d.klines, dayStartMs, dropLast);
  }

  /** Is `month` (YYYY-MM) a calendar month whose every day is archived? */
  hasMonth(month: string): boolean {
    const days = archiveMonthDays(month);
    return this.hasDay(days[0]!) && this.hasDay(days.at(-1)!);
  }

  /**
   * The CSV of one archived month (its days' CSV one after the other, as Binance's monthly file
   * holds the month's rows in id order), or null; `dropLast` leaves out the month's last row.
   */
  monthCsv(
    dataset: ArchiveDataset,
    symbol: string,
    month: string,
    dropLast = false,
  ): Generator<string> | null {
    if (!this.symbols.has(symbol) || !this.hasMonth(month)) return null;
    const days = archiveMonthDays(month);
    const store = this;
    return (function* () {
      for (const [i, date] of days.entries())
        yield* store.csv(dataset, symbol, date, dropLast && i === days.length - 1)!;
    })();
  }

  /** Rows of one archived day (ground truth for tests and the completeness proof). */
  rowCount(dataset: ArchiveDataset, symbol: string, date: string): number {
    const d = this.symbols.get(symbol)?.days.get(date);
    if (!d || !this.hasDay(date)) return 0;
    if (dataset === "trades") return d.trades.length / TRADE_COLS;
    if (dataset === "aggTrades") return d.aggs.length / AGG_COLS;
    return d.klines.length;
  }

  /** Archived days, oldest first. */
  dates(): string[] {
    const out: string[] = [];
    for (let us = this.fromUs; us + DAY_US <= this.untilUs; us += DAY_US) out.push(utcDate(us));
    return out;
  }
}
