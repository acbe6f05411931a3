/**
 * JSON text of each event exactly as Binance lays it out (web-socket-streams.md, "Trade Streams",
 * "Aggregate Trade Streams", "Individual Symbol Book Ticker Streams"): prices and quantities as
 * 8-decimal strings, ids and times as integers, `timeUnit=MICROSECOND` switching times to µs.
 * Each tick's frames are built at most once per variant (raw/combined × ms/µs) and shared by every
 * connection that wants that variant.
 */

import { formatDecimal } from "../model/decimal.ts";
import { DEPTH_KINDS } from "./depth-frames.ts";
import type { BookTickerRecord } from "./generator.ts";
import type { AggRecord, TradeRecord } from "./history.ts";
import type { KlineRecord } from "./klines.ts";
import { formatScaled } from "./market.ts";

export const STREAM_KINDS = ["trade", "aggTrade", "bookTicker", "kline_1m", ...DEPTH_KINDS] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** Variant index: bit 0 = combined envelope, bit 1 = microseconds. */
export function variantOf(combined: boolean, micros: boolean): number {
  return (combined ? 1 : 0) | (micros ? 2 : 0);
}

/** Event time E equals trade time T: the simulator publishes each trade at its scheduled time. */
function time(us: number, micros: boolean): number {
  return micros ? us : Math.floor(us / 1000);
}

export function tradeJson(s: string, t: TradeRecord, micros: boolean): string {
  const T = time(t.timeUs, micros);
  return `{"e":"trade","E":${T},"s":"${s}","t":${t.id},"p":"${formatScaled(t.priceScaled)}","q":"${formatScaled(t.qtyScaled)}","T":${T},"m":${t.buyerMaker},"M":true}`;
}

export function aggJson(s: string, a: AggRecord, micros: boolean): string {
  const T = time(a.timeUs, micros);
  return `{"e":"aggTrade","E":${T},"s":"${s}","a":${a.aggId},"p":"${formatScaled(a.priceScaled)}","q":"${formatScaled(a.qtyScaled)}","f":${a.firstId},"l":${a.lastId},"T":${T},"m":${a.buyerMaker},"M":true}`;
}

/**
 * `<symbol>@kline_1m` ("Kline/Candlestick Streams"), keys in Binance's order; `E` is when the
 * simulator sent it (after the close time for a closed minute), `B` is Binance's "ignore".
 */
export function klineJson(s: string, k: KlineRecord, eventUs: number, micros: boolean): string {
  return `{"e":"kline","E":${time(eventUs, micros)},"s":"${s}","k":{"t":${time(k.openUs, micros)},"T":${time(k.closeUs, micros)},"s":"${s}","i":"1m","f":${k.firstId},"L":${k.lastId},"o":"${formatScaled(k.open)}","c":"${formatScaled(k.close)}","h":"${formatScaled(k.high)}","l":"${formatScaled(k.low)}","v":"${formatDecimal(k.volume)}","n":${k.count},"x":${k.closed},"q":"${formatDecimal(k.quoteVolume)}","V":"${formatDecimal(k.takerBuyVolume)}","Q":"${formatDecimal(k.takerBuyQuoteVolume)}","B":"0"}}`;
}

/** bookTicker carries no event type and no event time on Spot. */
export function bookJson(s: string, b: BookTickerRecord): string {
  return `{"u":${b.updateId},"s":"${s}","b":"${formatScaled(b.bidScaled)}","B":"${formatScaled(b.bidQtyScaled)}","a":"${formatScaled(b.askScaled)}","A":"${formatScaled(b.askQtyScaled)}"}`;
}

export function shutdownJson(nowUs: number, micros: boolean): string {
  return `{"e":"serverShutdown","E":${time(nowUs, micros)}}`;
}

export function wrapCombined(stream: string, payload: string): string {
  return `{"stream":"${stream}","data":${payload}}`;
}

/** The frames one stream produced in one tick, rendered lazily per variant. */
export class StreamFrames {
  private readonly cache: (string[] | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(
    readonly stream: string,
    private readonly render: (micros: boolean) => string[],
  ) {}

  get(variant: number): string[] {
    let frames = this.cache[variant];
    if (frames) return frames;
    const micros = (variant & 2) !== 0;
    if ((variant & 1) === 0) {
      frames = this.render(micros);
    } else {
      const raw = this.get(variant & 2);
      frames = raw.map((f) => wrapCombined(this.stream, f));
    }
    this.cache[variant] = frames;
    return frames;
  }
}
