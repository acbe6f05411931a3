/**
 * Book test helpers: depth frames built as Binance JSON text and decoded by the real DepthDecoder
 * (so the book tests use the decoder's own output), a reference book on a Map, and text forms of
 * both for comparison. Prices and quantities are given as scaled integers (8 decimals).
 */

import { BookLevels, type OrderBook } from "../../src/book/index.ts";
import { DecodeStatus, DepthDecoder, DepthFrame, SymbolLookup } from "../../src/decode/binance/index.ts";
import { formatDecimal, SymbolTable } from "../../src/model/index.ts";

export const SYMBOL = "BTCUSDT";
const decoder = new DepthDecoder(new SymbolLookup(new SymbolTable([SYMBOL])));

export type Level = readonly [price: bigint, qty: bigint];

const text = (ls: readonly Level[]) =>
  `[${ls.map(([p, q]) => `["${formatDecimal(p)}","${formatDecimal(q)}"]`).join(",")}]`;

/** A decoded diff event U..u with event time `eMs` (ms, as Binance sends it). */
export function diff(
  U: number,
  u: number,
  bids: readonly Level[],
  asks: readonly Level[],
  eMs = 1,
): DepthFrame {
  const f = new DepthFrame();
  const s = decoder.decode(
    `{"e":"depthUpdate","E":${eMs},"s":"${SYMBOL}","U":${U},"u":${u},"b":${text(bids)},"a":${text(asks)}}`,
    f,
    0,
    false,
  );
  if (s !== DecodeStatus.OK) throw new Error(`test diff did not decode: ${s}`);
  return f;
}

/** A decoded REST snapshot (levels best first, as Binance sends them). */
export function snapshot(lastUpdateId: number, bids: readonly Level[], asks: readonly Level[]): DepthFrame {
  const f = new DepthFrame();
  const s = decoder.decodeSnapshot(
    `{"lastUpdateId":${lastUpdateId},"bids":${text(bids)},"asks":${text(asks)}}`,
    0,
    f,
    0,
  );
  if (s !== DecodeStatus.OK) throw new Error(`test snapshot did not decode: ${s}`);
  return f;
}

/** The reference: price → quantity per side, with Binance's rules (quantity 0 removes). */
export class TruthBook {
  bids = new Map<bigint, bigint>();
  asks = new Map<bigint, bigint>();
  apply(bids: readonly Level[], asks: readonly Level[]): void {
    for (const [side, ls] of [
      [this.bids, bids],
      [this.asks, asks],
    ] as const)
      for (const [p, q] of ls) {
        if (q === 0n) side.delete(p);
        else side.set(p, q);
      }
  }
  /** Best-first levels of a side, at most `n`. */
  top(bid: boolean, n = Number.POSITIVE_INFINITY): Level[] {
    const m = bid ? this.bids : this.asks;
    const ps = [...m.keys()].sort((a, b) =>
      bid ? (a > b ? -1 : a < b ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0,
    );
    return ps.slice(0, n).map((p) => [p, m.get(p)!] as const);
  }
  text(n = Number.POSITIVE_INFINITY): string {
    return `${levelsText(this.top(true, n))} | ${levelsText(this.top(false, n))}`;
  }
  clone(): TruthBook {
    const t = new TruthBook();
    t.bids = new Map(this.bids);
    t.asks = new Map(this.asks);
    return t;
  }
}

export const levelsText = (ls: readonly Level[]) => ls.map(([p, q]) => `${p}:${q}`).join(" ");

const bl = new BookLevels();
const al = new BookLevels();
/** The book's levels as text, best first, at most `n` per side (same form as TruthBook.text). */
export function bookText(b: OrderBook, n = Number.POSITIVE_INFINITY): string {
  b.top(n, bl, al);
  const side = (l: BookLevels) => {
    const out: Level[] = [];
    for (let i = 0; i < l.n; i++) out.push([l.price(i), l.quantity(i)]);
    return levelsText(out);
  };
  return `${side(bl)} | ${side(al)}`;
}
