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
import { FAST_INT_LIMIT, INV_TWO32, MAX_EXACT } from "../src/decode/binance/fast-scan.ts";
import { MIX_MULTIPLIER, VIEW_STRIDE } from "../src/decode/binance/symbol-lookup.ts";

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

/** Little-endian float64 of eight ASCII characters, as DataView.getFloat64(p, true) reads them. */
export function dword(s: string): number {
  const b = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 8; i++) b.setUint8(i, s.charCodeAt(i));
  return b.getFloat64(0, true);
}

/**
 * Conditions that are all false when `text` is at p + at: one float64 read per eight characters,
 * the rest by int32 reads (overlapping the previous read where the length is not a multiple).
 * Comparing float64s compares the bytes: eight printable ASCII bytes are a normal number, never
 * NaN or ±0, so `===` holds exactly when every bit is equal.
 */
function litChecks(text: string, at = 0): string[] {
  const off = (k: number) => (at + k === 0 ? "p" : `p + ${at + k}`);
  const out: string[] = [];
  if (text.length < 4) {
    for (let k = 0; k < text.length; k++) out.push(`B[${off(k)}] !== ${text.charCodeAt(k)}`);
    return out;
  }
  let k = 0;
  for (; k + 8 <= text.length; k += 8)
    out.push(`V.getFloat64(${off(k)}, true) !== ${dword(text.slice(k, k + 8))}`);
  const rest = text.length - k;
  if (rest === 0) return out;
  if (rest > 4 && k > 0) {
    out.push(`V.getFloat64(${off(text.length - 8)}, true) !== ${dword(text.slice(-8))}`);
    return out;
  }
  for (; k + 4 <= text.length; k += 4)
    out.push(`V.getInt32(${off(k)}, true) !== ${hex(word(text.slice(k, k + 4)))}`);
  if (k < text.length) out.push(`V.getInt32(${off(text.length - 4)}, true) !== ${hex(word(text.slice(-4)))}`);
  return out;
}

function lit(text: string): string {
  return `  // ${text}\n  if (${litChecks(text).join(" || ")}) return -1;\n  p += ${text.length};\n`;
}

/**
 * SWAR ("SIMD within a register") digit reading: one int32 read holds four characters; xor
 * 0x30303030 turns digits into byte values 0–9. NONDIGIT marks (0x80) each byte that was not a
 * digit, so the count of leading digits is the index of its lowest set bit / 8 (LEADING). PAIRS
 * then SWAR4 give the value of four digit bytes (first digit in the low byte) in two
 * multiply-add steps; a word with k < 4 leading digits is shifted left by 32 - 8k first, which
 * leaves zero digits in front of them. Straight-line code for the common lengths, the digit loop
 * for the rest: a digit-per-read loop costs ~1 ns a digit and was over half the frame's time.
 */
const PAIRS = (x: string) => `${x} = (Math.imul(${x}, 10) + (${x} >>> 8)) & 0xff00ff;`;
const SWAR4 = (x: string) => `((Math.imul(${x}, 100) + (${x} >>> 16)) & 0xffff)`;
const NONDIGIT = (x: string) => `((((${x} & 0x7f7f7f7f) + 0x76767676) | ${x}) & 0x80808080)`;
const LEADING = (m: string) => `((31 - Math.clz32(${m} & -${m})) >>> 3)`;
const DIGITS = (at: string) => `(V.getInt32(${at}, true) ^ 0x30303030)`;

/** The digit loop (one byte per read) for integers of fewer than eight digits. */
function integerLoop(): string {
  return `    d = B[p]! - 48;
    if (d < 1 || d > 9) return -1;
    v = d;
    for (;;) {
      d = B[++p]! - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
`;
}

function integer(col: string, time: boolean): string {
  return `  // ${col}: 1–16 digits, no leading zero (8–16: SWAR, int32 limbs of 8 and ≤ 8 digits)
  x = ${DIGITS("p")};
  m = ${DIGITS("p + 4")};
  if ((${NONDIGIT("x")} | ${NONDIGIT("m")}) !== 0 || (x & 0xff) === 0) {
${integerLoop()}  } else {
    ${PAIRS("x")}
    ${PAIRS("m")}
    hi = (${SWAR4("x")} * 10_000 + ${SWAR4("m")}) | 0;
    x = ${DIGITS("p + 8")};
    n = ${NONDIGIT("x")};
    lo = 0;
    if (n === 0) {
      ${PAIRS("x")}
      lo = ${SWAR4("x")};
      m = ${DIGITS("p + 12")};
      n = ${NONDIGIT("m")};
      if (n === 0) {
        if (B[p + 16]! - 48 >= 0 && B[p + 16]! - 48 <= 9) return -1;
        ${PAIRS("m")}
        lo = (lo * 10_000 + ${SWAR4("m")}) | 0;
        d = 8;
      } else {
        d = ${LEADING("n")};
        if (d !== 0) {
          m <<= 32 - 8 * d;
          ${PAIRS("m")}
          lo = (lo * POW10[d]! + ${SWAR4("m")}) | 0;
        }
        d += 4;
      }
    } else {
      d = ${LEADING("n")};
      if (d !== 0) {
        x <<= 32 - 8 * d;
        ${PAIRS("x")}
        lo = ${SWAR4("x")};
      }
    }
    v = hi * POW10[d]! + lo;
    p += 8 + d;
  }
${time ? "  v *= mult;\n" : ""}  if (v >= ${MAX_EXACT}) return -1; // 2^53
  out.${col}[slot] = v;
`;
}

function decimal(col: string): string {
  return `  // ${col}: ≤ 9 integer digits (≤ 8: SWAR), optional '.' and 1+ fraction digits (≤ 8 significant;
  // exactly 8: SWAR), '"'
  x = ${DIGITS("p")};
  n = ${NONDIGIT("x")};
  if (n !== 0) {
    d = ${LEADING("n")};
    if (d === 0) return -1;
    x <<= 32 - 8 * d;
    ${PAIRS("x")}
    hi = ${SWAR4("x")};
  } else {
    ${PAIRS("x")}
    hi = ${SWAR4("x")};
    x = ${DIGITS("p + 4")};
    n = ${NONDIGIT("x")};
    if (n === 0) {
      ${PAIRS("x")}
      hi = (hi * 10_000 + ${SWAR4("x")}) | 0;
      d = B[p + 8]! - 48;
      if (d >= 0 && d <= 9) {
        if (B[p + 9]! - 48 >= 0 && B[p + 9]! - 48 <= 9) return -1;
        hi = (hi * 10 + d) | 0;
        d = 5;
      } else d = 4;
    } else {
      d = ${LEADING("n")};
      if (d !== 0) {
        x <<= 32 - 8 * d;
        ${PAIRS("x")}
        hi = (hi * POW10[d]! + ${SWAR4("x")}) | 0;
      }
    }
    d += 4;
  }
  p += d;
  lo = 0;
  d = B[p]! - 48;
  if (d === -2) {
    s = ++p;
    x = ${DIGITS("p")};
    m = ${DIGITS("p + 4")};
    if ((${NONDIGIT("x")} | ${NONDIGIT("m")}) === 0 && B[p + 8] === 34) {
      ${PAIRS("x")}
      ${PAIRS("m")}
      lo = (${SWAR4("x")} * 10_000 + ${SWAR4("m")}) | 0;
      p += 8;
      d = -14;
    } else {
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
  }
  if (d !== -14) return -1;
  p++;
  // int64 words: the low one in int32 arithmetic (mod 2^32), the high one exact in a double
  if (hi < ${FAST_INT_LIMIT}) {
    out.${col}[2 * slot] = (Math.imul(hi, 100_000_000) + lo) | 0;
    out.${col}[2 * slot + 1] = Math.floor((hi * 1e8 + lo) * ${INV_TWO32}); // 2^-32
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
    return `  // s: an interned symbol; the first probe of SymbolLookup.view inline (its record layout and
  // hash), any other case by findView
  x = V.getInt32(p, true);
  v = Math.imul(x ^ (x >>> 15), ${hex(MIX_MULTIPLIER)});
  v = ((v ^ (v >>> 12)) & symbols.viewMask) * ${VIEW_STRIDE};
  t = symbols.view;
  d = t[v]! - 1;
  n = t[v + 1]!;
  if (t[v + 2] === x && d >= 0 && (n < 4 || V.getInt32(p + n - 3, true) === t[v + 3])) {
    for (s = 4; s < n - 3; s += 4) if (V.getInt32(p + s, true) !== t[v + 3 + (s >> 2)]) break;
  } else s = -1;
  if (s < n - 3 || s < 0) {
    d = symbols.findView(V, p);
    if (d < 0) return -1;
    p = symbols.stop;
  } else p += n;
  out.symbol_id[slot] = d;
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
  // JSC's optimised code re-loads a module binding at every use (a local is loaded once) and does
  // not fold imported numbers, so the tables are aliased to locals and the numbers written inline.
  const tables = [
    ["B", "SCRATCH_BYTES"],
    ["V", "SCRATCH_VIEW"],
    ["POW10", "POW10_TABLE"],
  ];
  if (uses("dec")) tables.push(["PAD", "PAD_TABLE"]);
  const scan = tables.map(([local, alias]) => `${local} as ${alias}`);
  if (uses("dec")) scan.push("storeLarge");
  const localName = (n: string) => n.split(" ").at(-1)!.toLowerCase();
  scan.sort((a, b) => (localName(a) < localName(b) ? -1 : 1)); // biome's import order
  const model = uses("buyerMaker") ? "{ FLAG_BUYER_MAKER, type RowColumns }" : "type { RowColumns }";
  const imports = [
    `import ${model} from "../../model/index.ts";`,
    `import { ${l.finish.name} } from "${l.finish.from}";`,
    `import {\n${scan.map((n) => `  ${n},\n`).join("")}} from "./fast-scan.ts";`,
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
  let x: number;
  let m: number;
  let n: number;
  let t: Int32Array;
${tables.map(([local, alias]) => `  const ${local} = ${alias};\n`).join("")}${l.parts.map(part).join("")}  ${l.finish.name}(out, slot, recvTimeUs);
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
