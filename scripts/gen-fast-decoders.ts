/**
 * Generates the exact-layout fast paths src/decode/binance/fast-trade.ts, fast-agg-trade.ts and
 * fast-book-ticker.ts from the LAYOUTS table below, so the three stay one design (they used to be
 * six hand-kept near-copies: string and bytes form of each).
 *
 *   bun run scripts/gen-fast-decoders.ts          rewrite the files
 *   bun run scripts/gen-fast-decoders.ts --check  exit 1 when a file differs from what it would write
 *
 * fast.test.ts runs the check too, so an edit to a generated file without the script fails tests.
 * Why the generated code looks the way it does: see the header of src/decode/binance/fast-scan.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A piece of a layout: literal text, or a field scanned into a RowColumns column. */
type Part =
  | { lit: string }
  | { time: string }
  | { id: string }
  | { dec: string }
  | { symbol: true }
  | { buyerMaker: true }
  | { optionalM: true };

interface Layout {
  file: string;
  fn: string;
  finish: { name: string; from: string };
  /** Whether the function takes `mult` (ms → µs) for its time fields. */
  times: boolean;
  doc: string;
  bench: string;
  parts: Part[];
}

const TRADE_TAIL: Part[] = [{ lit: ',"m":' }, { buyerMaker: true }, { optionalM: true }, { lit: "}" }];

export const LAYOUTS: Layout[] = [
  {
    file: "fast-trade.ts",
    fn: "tradeFast",
    finish: { name: "finishTrade", from: "./trade.ts" },
    times: true,
    doc: '{"e":"trade","E":..,"s":..,"t":..,"p":..,"q":..,"T":..,"m":..[,"M":..]}',
    bench: "decode trade (combined)",
    parts: [
      { lit: '{"e":"trade","E":' },
      { time: "event_time_us" },
      { lit: ',"s":"' },
      { symbol: true },
      { lit: '","t":' },
      { id: "id" },
      { lit: ',"p":"' },
      { dec: "dec0w" },
      { lit: ',"q":"' },
      { dec: "dec1w" },
      { lit: ',"T":' },
      { time: "trade_time_us" },
      ...TRADE_TAIL,
    ],
  },
  {
    file: "fast-agg-trade.ts",
    fn: "aggTradeFast",
    finish: { name: "finishAggTrade", from: "./agg-trade.ts" },
    times: true,
    doc: '{"e":"aggTrade","E":..,"s":..,"a":..,"p":..,"q":..,"f":..,"l":..,"T":..,"m":..[,"M":..]}',
    bench: "decode aggTrade (combined)",
    parts: [
      { lit: '{"e":"aggTrade","E":' },
      { time: "event_time_us" },
      { lit: ',"s":"' },
      { symbol: true },
      { lit: '","a":' },
      { id: "id" },
      { lit: ',"p":"' },
      { dec: "dec0w" },
      { lit: ',"q":"' },
      { dec: "dec1w" },
      { lit: ',"f":' },
      { id: "first_id" },
      { lit: ',"l":' },
      { id: "last_id" },
      { lit: ',"T":' },
      { time: "trade_time_us" },
      ...TRADE_TAIL,
    ],
  },
  {
    file: "fast-book-ticker.ts",
    fn: "bookTickerFast",
    finish: { name: "finishBookTicker", from: "./book-ticker.ts" },
    times: false,
    doc: '{"u":..,"s":..,"b":..,"B":..,"a":..,"A":..}',
    bench: "decode bookTicker (combined)",
    parts: [
      { lit: '{"u":' },
      { id: "id" },
      { lit: ',"s":"' },
      { symbol: true },
      { lit: '","b":"' },
      { dec: "dec0w" },
      { lit: ',"B":"' },
      { dec: "dec1w" },
      { lit: ',"a":"' },
      { dec: "dec2w" },
      { lit: ',"A":"' },
      { dec: "dec3w" },
      { lit: "}" },
    ],
  },
];

/** Little-endian int32 of four ASCII characters, as DataView.getInt32(p, true) reads them. */
export function word(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24) | 0;
}

const hex = (n: number) => (n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);

/** Conditions that are all false when `text` is at p + at (one int32 read per four characters). */
function litChecks(text: string, at = 0): string[] {
  const off = (k: number) => (at + k === 0 ? "p" : `p + ${at + k}`);
  const out: string[] = [];
  if (text.length < 4) {
    for (let k = 0; k < text.length; k++) out.push(`B[${off(k)}] !== ${text.charCodeAt(k)}`);
    return out;
  }
  const starts: number[] = [];
  for (let k = 0; k + 4 <= text.length; k += 4) starts.push(k);
  if (text.length % 4 !== 0) starts.push(text.length - 4); // overlaps the previous word
  for (const k of starts) out.push(`V.getInt32(${off(k)}, true) !== ${hex(word(text.slice(k, k + 4)))}`);
  return out;
}

function lit(text: string): string {
  return `  // ${text}\n  if (${litChecks(text).join(" || ")}) return -1;\n  p += ${text.length};\n`;
}

function integer(col: string, time: boolean): string {
  return `  // ${col}: 1–16 digits, no leading zero; int32 limbs of ≤ 9 and ≤ 7 digits
  d = B[p]! - 48;
  if (d < 1 || d > 9) return -1;
  hi = d;
  s = p++;
  for (;;) {
    d = B[p]! - 48;
    if (d < 0 || d > 9 || p - s === 9) break;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  v = hi;
  if (d >= 0 && d <= 9) {
    lo = 0;
    s = p;
    for (;;) {
      d = B[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 7) return -1;
      lo = (lo * 10 + d) | 0;
      p++;
    }
    v = hi * POW10[p - s]! + lo;
  }
${time ? "  v *= mult;\n" : ""}  if (v >= MAX_EXACT) return -1;
  out.${col}[slot] = v;
`;
}

function decimal(col: string): string {
  return `  // ${col}: ≤ 9 integer digits, optional '.' and 1+ fraction digits (≤ 8 significant), '"'
  s = p;
  hi = 0;
  for (;;) {
    d = B[p]! - 48;
    if (d < 0 || d > 9) break;
    if (p - s === 9) return -1;
    hi = (hi * 10 + d) | 0;
    p++;
  }
  if (p === s) return -1;
  lo = 0;
  if (d === -2) {
    s = ++p;
    for (;;) {
      d = B[p]! - 48;
      if (d < 0 || d > 9) break;
      if (p - s === 8) {
        while (d === 0) d = B[++p]! - 48;
        break;
      }
      lo = (lo * 10 + d) | 0;
      p++;
    }
    if (p === s) return -1;
    if (p - s < 8) lo = (lo * PAD[p - s]!) | 0;
  }
  if (d !== -14) return -1;
  p++;
  // int64 words: the low one in int32 arithmetic (mod 2^32), the high one exact in a double
  if (hi < FAST_INT_LIMIT) {
    out.${col}[2 * slot] = (Math.imul(hi, 100_000_000) + lo) | 0;
    out.${col}[2 * slot + 1] = Math.floor((hi * 1e8 + lo) * INV_TWO32);
  } else storeLarge(out.${col}, slot, hi, lo);
`;
}

const TRUE = hex(word("true"));
const FALS = hex(word("fals"));

function part(x: Part): string {
  if ("lit" in x) return lit(x.lit);
  if ("time" in x) return integer(x.time, true);
  if ("id" in x) return integer(x.id, false);
  if ("dec" in x) return decimal(x.dec);
  if ("symbol" in x)
    return `  // s: an interned symbol; \`stop\` is its closing quote
  d = symbols.findView(V, p);
  if (d < 0) return -1;
  out.symbol_id[slot] = d;
  p = symbols.stop;
`;
  if ("buyerMaker" in x)
    return `  // m: true → FLAG_BUYER_MAKER (aggressor SELL)
  v = V.getInt32(p, true);
  if (v === ${TRUE} /* true */) {
    out.flags[slot] = FLAG_BUYER_MAKER;
    p += 4;
  } else if (v === ${FALS} /* fals */ && B[p + 4] === 101) {
    out.flags[slot] = 0;
    p += 5;
  } else return -1;
`;
  return `  // optional ,"M":true|false (ignored)
  if (B[p] === 44) {
    if (${litChecks(',"M":').join(" || ")}) return -1;
    v = V.getInt32(p + 5, true);
    if (v === ${TRUE} /* true */) p += 9;
    else if (v === ${FALS} /* fals */ && B[p + 9] === 101) p += 10;
    else return -1;
  }
`;
}

export function render(l: Layout): string {
  const uses = (k: string) => l.parts.some((x) => k in x);
  const scan = ["B", "V"];
  if (uses("dec")) scan.push("FAST_INT_LIMIT", "INV_TWO32");
  if (uses("time") || uses("id")) scan.push("MAX_EXACT");
  if (uses("dec")) scan.push("PAD");
  if (uses("time") || uses("id")) scan.push("POW10");
  if (uses("dec")) scan.push("storeLarge");
  scan.sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)); // biome's import order
  const model = uses("buyerMaker") ? "{ FLAG_BUYER_MAKER, type RowColumns }" : "type { RowColumns }";
  const imports = [
    `import ${model} from "../../model/index.ts";`,
    `import { ${l.finish.name} } from "${l.finish.from}";`,
    `import { ${scan.join(", ")} } from "./fast-scan.ts";`,
    `import type { SymbolLookup } from "./symbol-lookup.ts";`,
  ].sort((a, b) => (a.split('"')[1]! < b.split('"')[1]! ? -1 : 1));
  const params = [
    "  p: number,",
    "  symbols: SymbolLookup,",
    "  out: RowColumns,",
    "  slot: number,",
    "  recvTimeUs: number,",
  ];
  if (l.times) params.push("  mult: number,");
  return `// GENERATED by scripts/gen-fast-decoders.ts: edit its LAYOUTS, then run it (fast.test.ts checks).
/**
 * The ${l.fn.replace("Fast", "")} fast path for
 * \`${l.doc}\`
 * exactly as Binance sends it, read from the scratch copy of the frame (fast-scan.ts: V, B):
 * one function, every field inline (native-bench "${l.bench}"; see fast-scan.ts for why, what it
 * declines, and the bounds argument; fast.test.ts checks it against the generic path).
 */
${imports.join("\n")}

/** The payload object at \`p\` ('{'): the position after its '}' with the row written, or -1. */
// biome-ignore format: generated
export function ${l.fn}(
${params.join("\n")}
): number {
  let d: number;
  let hi: number;
  let lo: number;
  let s: number;
  let v: number;
${l.parts.map(part).join("")}  ${l.finish.name}(out, slot, recvTimeUs);
  return p;
}
`;
}

if (import.meta.main) {
  const dir = join(import.meta.dir, "../src/decode/binance");
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const l of LAYOUTS) {
    const path = join(dir, l.file);
    const want = render(l);
    let have = "";
    try {
      have = readFileSync(path, "utf8");
    } catch {}
    if (have === want) continue;
    if (check) {
      console.error(`${path} is not what scripts/gen-fast-decoders.ts generates: run it`);
      stale++;
    } else writeFileSync(path, want);
  }
  process.exit(stale > 0 ? 1 : 0);
}
