/**
 * Depth frames and the order book (issue 18), each against a baseline measured in the same run:
 * - `decode depth ...`: DepthDecoder.decode / decodeSnapshot into one reused DepthFrame (its
 *   sides already grown to the largest frame: the steady state), vs JSON.parse + extraction of the
 *   same fields into typed arrays, with Number() (not exact) and with model parseDecimal (exact,
 *   what K2 needs). Frames of 10 levels per side (a 100 ms diff of a busy symbol), 100 per side,
 *   and 1,000 per side (a REST snapshot at limit 1000). ns/level = ns/op ÷ levels in the case name.
 * - `book apply ...`: OrderBook.applyDiff of pre-decoded diffs (10 levels per side, prices drawn
 *   near the top as real diffs are, half of them removals) on a book of ~1,000 levels per side,
 *   vs a Map<bigint, bigint> per side fed the same changes (an unordered baseline: it cannot give
 *   the best level or the top N without sorting, so it flatters the baseline).
 * Each case cycles through 256 distinct frames.
 */
import { OrderBook } from "../src/book/index.ts";
import { DepthDecoder, DepthFrame, SymbolLookup } from "../src/decode/binance/index.ts";
import { parseDecimal, SymbolTable } from "../src/model/index.ts";
import type { BenchCase, BenchSuite } from "./harness.ts";

const N = 256;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"];
const table = new SymbolTable(SYMBOLS);
const decoder = new DepthDecoder(new SymbolLookup(table));
const RECV = 1_672_515_782_999_000;
const TICK = 1_000_000; // 0.01 in scaled units
const MID = 3_000_000 * TICK; // 30,000.00

/** xorshift32, seeded: the same frames every run. */
let seed = 12345;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

const dec = (scaled: number) => `${Math.floor(scaled / 1e8)}.${String(scaled % 1e8).padStart(8, "0")}`;
/** Ticks from the best: mostly the first few, sometimes deep (log-uniform over 1..1500). */
const depthTicks = () => Math.floor(Math.exp(rnd() * Math.log(1500)));
const qty = () => (rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 5e8));

interface Lv {
  bids: [number, number][];
  asks: [number, number][];
}
function levels(n: number): Lv {
  const bids: [number, number][] = [];
  const asks: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    bids.push([MID - depthTicks() * TICK, qty()]);
    asks.push([MID + depthTicks() * TICK, qty()]);
  }
  return { bids, asks };
}
const text = (ls: [number, number][]) => `[${ls.map(([p, q]) => `["${dec(p)}","${dec(q)}"]`).join(",")}]`;

function diffFrames(perSide: number): { frames: string[]; lv: Lv[] } {
  const frames: string[] = [];
  const lv: Lv[] = [];
  for (let i = 0; i < N; i++) {
    const s = SYMBOLS[i % SYMBOLS.length]!;
    const l = levels(perSide);
    const body = `{"e":"depthUpdate","E":${1_672_515_782_136 + i * 100},"s":"${s}","U":${40_000_000_000 + i * 20},"u":${40_000_000_019 + i * 20},"b":${text(l.bids)},"a":${text(l.asks)}}`;
    // Flatten (template literals build ropes; WebSocket frames arrive flat).
    frames.push(Buffer.from(`{"stream":"${s.toLowerCase()}@depth@100ms","data":${body}}`).toString());
    lv.push(l);
  }
  return { frames, lv };
}

function snapshotBodies(perSide: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const bids: [number, number][] = [];
    const asks: [number, number][] = [];
    for (let k = 1; k <= perSide; k++) {
      bids.push([MID - k * TICK, 1 + Math.floor(rnd() * 5e8)]);
      asks.push([MID + k * TICK, 1 + Math.floor(rnd() * 5e8)]);
    }
    out.push(
      Buffer.from(
        `{"lastUpdateId":${40_000_000_000 + i},"bids":${text(bids)},"asks":${text(asks)}}`,
      ).toString(),
    );
  }
  return out;
}

function decodeCase(name: string, frames: string[], ops: number, rest: boolean): BenchCase {
  return {
    name,
    ops,
    setup: () => {
      const out = new DepthFrame();
      const n = frames.length;
      for (const f of frames) {
        const s = rest ? decoder.decodeSnapshot(f, 0, out, RECV) : decoder.decode(f, out, RECV, false);
        if (s !== 0) throw new Error(`${name}: a frame failed with status ${s}`);
      }
      return (i) => {
        const f = frames[i % n]!;
        if (rest) decoder.decodeSnapshot(f, 0, out, RECV);
        else decoder.decode(f, out, RECV, false);
      };
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON.parse output, as the baseline uses it
type Msg = any;
/** JSON.parse + the same fields into typed arrays; `exact` decides Number() vs parseDecimal. */
function parseCase(
  name: string,
  frames: string[],
  ops: number,
  exact: boolean,
  maxLevels: number,
): BenchCase {
  return {
    name,
    ops,
    setup: () => {
      const ids = new Float64Array(4);
      const num = new Float64Array(4 * maxLevels);
      const big = new BigInt64Array(4 * maxLevels);
      const n = frames.length;
      return (i) => {
        const m: Msg = JSON.parse(frames[i % n]!);
        const d: Msg = m.data ?? m;
        ids[0] = d.U ?? d.lastUpdateId;
        ids[1] = d.u ?? d.lastUpdateId;
        ids[2] = d.E === undefined ? RECV : d.E * 1000;
        ids[3] = d.s === undefined ? 0 : (table.id(d.s) ?? -1);
        const sides = [d.b ?? d.bids, d.a ?? d.asks];
        let k = 0;
        for (const side of sides)
          for (const [p, q] of side as [string, string][]) {
            if (exact) {
              big[k++] = parseDecimal(p) ?? 0n;
              big[k++] = parseDecimal(q) ?? 0n;
            } else {
              num[k++] = Number(p);
              num[k++] = Number(q);
            }
          }
      };
    },
  };
}

/** A book of ~1,000 levels per side from a snapshot, then pre-decoded diffs applied in a cycle. */
function bookCase(name: string): BenchCase {
  return {
    name,
    ops: 200_000,
    setup: () => {
      const book = new OrderBook(0);
      const snap = new DepthFrame();
      decoder.decodeSnapshot(snapshotBodies(1000, 1)[0]!, 0, snap, RECV);
      book.applySnapshot(snap, 1000, RECV);
      const frames = diff10.frames.map((f) => {
        const out = new DepthFrame();
        decoder.decode(f, out, RECV, false);
        return out;
      });
      return (i) => {
        book.applyDiff(frames[i & (N - 1)]!);
      };
    },
  };
}

function mapCase(name: string): BenchCase {
  return {
    name,
    ops: 200_000,
    setup: () => {
      const bids = new Map<bigint, bigint>();
      const asks = new Map<bigint, bigint>();
      for (let k = 1; k <= 1000; k++) {
        bids.set(BigInt(MID - k * TICK), 1n);
        asks.set(BigInt(MID + k * TICK), 1n);
      }
      const changes = diff10.lv.map((l) => ({
        bids: l.bids.map(([p, q]) => [BigInt(p), BigInt(q)] as const),
        asks: l.asks.map(([p, q]) => [BigInt(p), BigInt(q)] as const),
      }));
      return (i) => {
        const c = changes[i & (N - 1)]!;
        for (const [p, q] of c.bids) q === 0n ? bids.delete(p) : bids.set(p, q);
        for (const [p, q] of c.asks) q === 0n ? asks.delete(p) : asks.set(p, q);
      };
    },
  };
}

const diff10 = diffFrames(10);
const diff100 = diffFrames(100);
const snaps = snapshotBodies(1000, 8);

export const suite: BenchSuite = {
  title: "depth and book",
  cases: [
    decodeCase("decode depth diff (combined, 20 levels)", diff10.frames, 200_000, false),
    parseCase("JSON.parse+extract depth diff (20 levels)", diff10.frames, 200_000, false, 10),
    parseCase("JSON.parse+extract+exact depth diff (20 levels)", diff10.frames, 200_000, true, 10),
    decodeCase("decode depth diff (combined, 200 levels)", diff100.frames, 20_000, false),
    parseCase("JSON.parse+extract depth diff (200 levels)", diff100.frames, 20_000, false, 100),
    parseCase("JSON.parse+extract+exact depth diff (200 levels)", diff100.frames, 20_000, true, 100),
    decodeCase("decode depth snapshot (2,000 levels)", snaps, 1_000, true),
    parseCase("JSON.parse+extract depth snapshot (2,000 levels)", snaps, 1_000, false, 1000),
    parseCase("JSON.parse+extract+exact depth snapshot (2,000 levels)", snaps, 1_000, true, 1000),
    bookCase("book apply diff (20 levels, ~1,000-level book)"),
    mapCase("Map<bigint,bigint> apply diff (20 levels, unordered)"),
  ],
  ratios: [
    {
      subject: "decode depth diff (combined, 20 levels)",
      baseline: "JSON.parse+extract depth diff (20 levels)",
    },
    {
      subject: "decode depth diff (combined, 20 levels)",
      baseline: "JSON.parse+extract+exact depth diff (20 levels)",
    },
    {
      subject: "decode depth diff (combined, 200 levels)",
      baseline: "JSON.parse+extract depth diff (200 levels)",
    },
    {
      subject: "decode depth diff (combined, 200 levels)",
      baseline: "JSON.parse+extract+exact depth diff (200 levels)",
    },
    {
      subject: "decode depth snapshot (2,000 levels)",
      baseline: "JSON.parse+extract depth snapshot (2,000 levels)",
    },
    {
      subject: "decode depth snapshot (2,000 levels)",
      baseline: "JSON.parse+extract+exact depth snapshot (2,000 levels)",
    },
    {
      subject: "book apply diff (20 levels, ~1,000-level book)",
      baseline: "Map<bigint,bigint> apply diff (20 levels, unordered)",
    },
  ],
};
