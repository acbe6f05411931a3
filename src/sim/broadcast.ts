/**
 * One tick's fan-out: render each subscribed stream's frames once per variant, then send every
 * connection its frames inside one cork (one write syscall per connection per tick rather than
 * one per frame — what lets a single client receive several hundred thousand frames per second;
 * see src/sim/throughput.ts).
 */
import type { SymbolBook } from "./book.ts";
import type { SimSocket } from "./connection.ts";
import type { DepthTick } from "./depth-feed.ts";
import { bookSnapshotJson, depthUpdateJson, PARTIAL_LEVELS } from "./depth-frames.ts";
import { type FaultSwitches, garbageFrame } from "./faults.ts";
import { aggJson, bookJson, klineJson, StreamFrames, tradeJson, variantOf } from "./frames.ts";
import type { TickBatch } from "./generator.ts";
import type { Rng } from "./rng.ts";
import type { SimStats } from "./stats.ts";

/** Adds this symbol's frames for the streams that have subscribers (nobody listening: no JSON built). */
export function renderTick(
  symbol: string,
  b: TickBatch,
  subscribed: (stream: string) => boolean,
  into: Map<string, StreamFrames>,
  nowUs: number,
): void {
  const lower = symbol.toLowerCase();
  const want = (n: number, kind: string): string | null => {
    if (n === 0) return null;
    const name = `${lower}@${kind}`;
    return subscribed(name) ? name : null;
  };
  let name = want(b.trades.length, "trade");
  if (name) into.set(name, new StreamFrames(name, (us) => b.trades.map((t) => tradeJson(symbol, t, us))));
  name = want(b.aggs.length, "aggTrade");
  if (name) into.set(name, new StreamFrames(name, (us) => b.aggs.map((a) => aggJson(symbol, a, us))));
  name = want(b.books.length, "bookTicker");
  if (name) into.set(name, new StreamFrames(name, () => b.books.map((k) => bookJson(symbol, k))));
  name = want(b.klines.length, "kline_1m");
  if (name)
    into.set(name, new StreamFrames(name, (us) => b.klines.map((k) => klineJson(symbol, k, nowUs, us))));
}

/**
 * Book mode: the tick's diff events (`@depth@100ms`, `@depth`) and partial depth
 * (`@depth<N>[@100ms]`, the book as it is now) for the streams that have subscribers.
 */
export function renderDepth(
  symbol: string,
  tick: DepthTick,
  book: SymbolBook,
  subscribed: (stream: string) => boolean,
  into: Map<string, StreamFrames>,
): void {
  const lower = symbol.toLowerCase();
  for (const { speed, event } of tick.diffs) {
    const name = speed === "100ms" ? `${lower}@depth@100ms` : `${lower}@depth`;
    if (subscribed(name))
      into.set(name, new StreamFrames(name, (us) => [depthUpdateJson(symbol, event, us)]));
  }
  for (const n of PARTIAL_LEVELS) {
    for (const name of [
      tick.partial["1000ms"] ? `${lower}@depth${n}` : "",
      tick.partial["100ms"] ? `${lower}@depth${n}@100ms` : "",
    ]) {
      if (name === "" || !subscribed(name)) continue;
      const body = bookSnapshotJson(book, n);
      into.set(name, new StreamFrames(name, () => [body]));
    }
  }
}

export function sendTick(
  conns: Iterable<SimSocket>,
  frames: Map<string, StreamFrames>,
  faults: FaultSwitches,
  stats: SimStats,
  rng: Rng,
): void {
  for (const ws of conns) {
    if (ws.data.closing) continue;
    const variant = variantOf(ws.data.combined, ws.data.micros);
    ws.cork(() => {
      for (const name of ws.data.streams) {
        const f = frames.get(name);
        if (f) sendFrames(ws, f.get(variant), faults, stats, rng);
      }
    });
  }
}

/** Garbage frames go out in addition to real ones, never instead, so ground truth stays exact. */
function sendFrames(ws: SimSocket, list: string[], faults: FaultSwitches, stats: SimStats, rng: Rng): void {
  const ratio = faults.garbageRatio;
  for (const f of list) {
    ws.sendText(f);
    stats.framesSent++;
    stats.bytesSent += f.length;
    if (ratio > 0 && rng.next() < ratio) {
      const kind = faults.garbageKinds[rng.int(faults.garbageKinds.length)]!;
      const g = garbageFrame(kind, f, rng, faults.oversizedBytes);
      if (typeof g === "string") ws.sendText(g);
      else ws.sendBinary(g);
      stats.garbageFramesSent++;
    }
  }
}
