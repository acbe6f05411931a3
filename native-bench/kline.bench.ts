/**
 * Kline frames on the hot path (src/ingest/ingest.ts → src/decode/binance/kline.ts): the row
 * decoder's miss (a `@kline_1m` stream is NOT_CONFIGURED to it) followed by the kline decoder into
 * a one-row scratch, as Ingest does for every kline frame; against JSON.parse + extraction of the
 * same fields with exact decimals, measured in the same run. Heap growth per frame should be 0.
 * Kline frames are few (one or two a second per symbol), so this guards allocation, not load.
 */
import { decodeFrame, decodeKlineFrame, SymbolLookup } from "../src/decode/binance/index.ts";
import { allocKlineColumns, allocRowColumns, parseDecimal, SymbolTable } from "../src/model/index.ts";
import type { BenchCase, BenchSuite } from "./harness.ts";

const OPS = 200_000;
const N = 256;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"];
const table = new SymbolTable(SYMBOLS);
const lookup = new SymbolLookup(table);
const rows = allocRowColumns(1);
const klines = allocKlineColumns(N);

const dec = (i: number, base: number) =>
  `${base + (i % 97)}.${String((i * 104_729) % 100_000_000).padStart(8, "0")}`;
const frames: string[] = [];
for (let i = 0; i < N; i++) {
  const s = SYMBOLS[i % SYMBOLS.length]!;
  const t = 1_735_776_000_000_000 + i * 60_000_000;
  const body = `{"e":"kline","E":${t + 60_000_123},"s":"${s}","k":{"t":${t},"T":${t + 59_999_999},"s":"${s}","i":"1m","f":${4_000_000 + i * 100},"L":${4_000_099 + i * 100},"o":"${dec(i, 97_000)}","c":"${dec(i + 1, 97_000)}","h":"${dec(i + 2, 97_100)}","l":"${dec(i + 3, 96_900)}","v":"${dec(i, 3)}","n":100,"x":${i % 2 === 0},"q":"${dec(i, 290_000)}","V":"${dec(i, 1)}","Q":"${dec(i, 140_000)}","B":"0"}}`;
  frames.push(Buffer.from(`{"stream":"${s.toLowerCase()}@kline_1m","data":${body}}`).toString());
}

const k2Case: BenchCase = {
  name: "kline (combined): row-decoder miss + decodeKlineFrame",
  ops: OPS,
  setup: () => {
    for (let i = 0; i < N; i++)
      if (decodeKlineFrame(frames[i]!, lookup, klines, i, true) !== 0) throw new Error(`frame ${i} failed`);
    return (i) => {
      const f = frames[i & (N - 1)]!;
      decodeFrame(f, lookup, rows, 0, 0, true);
      decodeKlineFrame(f, lookup, klines, i & (N - 1), true);
    };
  },
};

// biome-ignore lint/suspicious/noExplicitAny: JSON.parse output, as the baseline uses it
type Msg = any;
const parseCase: BenchCase = {
  name: "JSON.parse+extract+exact kline (combined)",
  ops: OPS,
  setup: () => (i) => {
    const slot = i & (N - 1);
    const k: Msg = JSON.parse(frames[slot]!).data.k;
    klines.symbol_id[slot] = table.id(k.s) ?? 0;
    klines.open_time_us[slot] = k.t;
    klines.close_time_us[slot] = k.T;
    klines.first_id[slot] = k.f;
    klines.last_id[slot] = k.L;
    klines.trades[slot] = k.n;
    klines.closed[slot] = k.x ? 1 : 0;
    klines.open[slot] = parseDecimal(k.o) ?? 0n;
    klines.close[slot] = parseDecimal(k.c) ?? 0n;
    klines.high[slot] = parseDecimal(k.h) ?? 0n;
    klines.low[slot] = parseDecimal(k.l) ?? 0n;
    klines.volume[slot] = parseDecimal(k.v) ?? 0n;
    klines.quote_volume[slot] = parseDecimal(k.q) ?? 0n;
  },
};

export const suite: BenchSuite = {
  title: "kline",
  cases: [k2Case, parseCase],
  ratios: [{ subject: k2Case.name, baseline: parseCase.name }],
};
