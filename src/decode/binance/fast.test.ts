/**
 * The exact-layout fast paths (fast.ts, fast-bytes.ts) must agree with the generic path on every
 * frame: same status, same row bits. A leading space keeps a frame's meaning but makes every fast
 * path decline, so `decodeFrame(" " + f)` is the generic path's answer for `f`.
 */
import { describe, expect, test } from "bun:test";
import { allocRowColumns, type RowColumns, SymbolTable } from "../../model/index.ts";
import { decodeFrame } from "./dispatch.ts";
import { decodeFastString } from "./fast.ts";
import { decodeFastBytes } from "./fast-bytes.ts";
import { DecodeStatus as S } from "./status.ts";
import { SymbolLookup } from "./symbol-lookup.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "AB", "X1234567890123456789", "DOGEUSDT", "BTCUSDC", "BTCUSDTX"];
const symbols = new SymbolLookup(new SymbolTable(SYMBOLS));
const enc = new TextEncoder();
const a = allocRowColumns(1);
const b = allocRowColumns(1);
const RECV = 1_700_000_000_123_456;

/** Every column of row 0 as bytes, so -0/NaN/int64 words compare exactly. */
function rowBytes(out: RowColumns): number[] {
  const cols = [
    out.kind,
    out.symbol_id,
    out.id,
    out.first_id,
    out.last_id,
    out.trade_time_us,
    out.event_time_us,
    out.recv_time_us,
    out.dec0,
    out.dec1,
    out.dec2,
    out.dec3,
    out.flags,
  ];
  return cols.flatMap((c) => Array.from(new Uint8Array(c.buffer, 0, c.BYTES_PER_ELEMENT)));
}

/** decodeFrame on `f` (fast path first) agrees with the generic path, string and bytes form. */
function agree(f: string, timeUnitUs: boolean): number {
  const want = decodeFrame(` ${f}`, symbols, b, 0, RECV, timeUnitUs);
  const wantRow = want === S.OK ? rowBytes(b) : null;
  for (const form of [f, enc.encode(f)]) {
    const got = decodeFrame(form, symbols, a, 0, RECV, timeUnitUs);
    if (got !== want) throw new Error(`${JSON.stringify(f)}: status ${got}, generic ${want}`);
    if (wantRow) expect(rowBytes(a)).toEqual(wantRow);
  }
  return want;
}

class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s / 4_294_967_296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  digits(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
}

/** An integer field: usually Binance-like, sometimes edge lengths, leading zeros, 2^53 ± 1. */
function intText(r: Rng): string {
  switch (r.int(8)) {
    case 0:
      return r.digits(1 + r.int(18));
    case 1:
      return String(2 ** 53 - 2 + r.int(4));
    case 2:
      return String(9_007_199_254_740 + r.int(3)); // ×1000 around 2^53
    default:
      return String(1 + r.int(9)) + r.digits(r.int(16));
  }
}
function decText(r: Rng): string {
  const int = r.int(6) === 0 ? r.digits(r.int(12)) : String(r.int(100_000));
  if (r.int(5) === 0) return int;
  return `${int}.${r.digits(r.int(6) === 0 ? r.int(13) : 8)}`;
}
const bool = (r: Rng) => (r.int(2) === 0 ? "true" : "false");
const sym = (r: Rng) => (r.int(10) === 0 ? "ETHBTC" : SYMBOLS[r.int(SYMBOLS.length)]!);
const tail = (r: Rng) => (r.int(4) === 0 ? "" : `,"M":${bool(r)}`);

function frame(r: Rng, kind: number, combined: boolean): string {
  const s = sym(r);
  let body: string;
  let name: string;
  if (kind === 0) {
    name = "trade";
    body = `{"e":"trade","E":${intText(r)},"s":"${s}","t":${intText(r)},"p":"${decText(r)}","q":"${decText(r)}","T":${intText(r)},"m":${bool(r)}${tail(r)}}`;
  } else if (kind === 1) {
    name = "aggTrade";
    body = `{"e":"aggTrade","E":${intText(r)},"s":"${s}","a":${intText(r)},"p":"${decText(r)}","q":"${decText(r)}","f":${intText(r)},"l":${intText(r)},"T":${intText(r)},"m":${bool(r)}${tail(r)}}`;
  } else {
    name = "bookTicker";
    body = `{"u":${intText(r)},"s":"${s}","b":"${decText(r)}","B":"${decText(r)}","a":"${decText(r)}","A":"${decText(r)}"}`;
  }
  return combined ? `{"stream":"${s.toLowerCase()}@${name}","data":${body}}` : body;
}

describe("fast paths agree with the generic path", () => {
  test("canonical Binance frames take the fast path (string and bytes)", () => {
    const r = new Rng(1);
    for (let kind = 0; kind < 3; kind++)
      for (const combined of [false, true]) {
        const f = frame(new Rng(kind + 10), kind, combined).replace(/"s":"[^"]*"/, '"s":"BTCUSDT"');
        const c = f.replace(/"stream":"[^@]*@/, '"stream":"btcusdt@');
        const plain = c.replace(/:(\d+)/g, (_, d: string) => `:${String(1 + r.int(9))}${d.slice(1, 13)}`);
        const p = plain.replace(/"(\d+(\.\d+)?)"/g, '"16500.01000000"');
        expect(decodeFastString(p, p.length, symbols, a, 0, RECV, 1000)).toBe(true);
        expect(decodeFastBytes(enc.encode(p), p.length, symbols, a, 0, RECV, 1000)).toBe(true);
        expect(agree(p, false)).toBe(S.OK);
      }
  });

  test("every length the SWAR readers handle takes the fast path", () => {
    // ids/times of 1–16 digits, decimal integer parts of 1–9 digits and fractions of 1–8 (and 9+
    // with trailing zeros), symbols of 2–20 characters: each branch of the generated readers.
    const base =
      '{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"16500.01000000","q":"0.00100000","T":1672515782136,"m":true}}';
    const cases: string[] = [];
    for (let n = 1; n <= 16; n++) cases.push(base.replace("12345", "123456789123456789".slice(0, n)));
    for (let n = 1; n <= 9; n++) cases.push(base.replace('"16500.', `"${"987654321".slice(0, n)}.`));
    for (let n = 1; n <= 8; n++) cases.push(base.replace('"0.00100000"', `"0.${"12345678".slice(0, n)}"`));
    cases.push(base.replace('"0.00100000"', '"0.123400000000"'), base.replace('"0.00100000"', '"7"'));
    for (const s of SYMBOLS) cases.push(base.replace('"BTCUSDT"', `"${s}"`));
    for (const f of cases) {
      expect([f, decodeFastString(f, f.length, symbols, a, 0, RECV, 1000)]).toEqual([f, true]);
      expect(agree(f, false)).toBe(S.OK);
    }
  });

  test("random values: lengths, leading zeros, 2^53 edges, optional M, both time units", () => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 30_000; i++) seen.add(agree(frame(r, r.int(3), r.int(2) === 0), r.int(2) === 0));
    expect(seen.has(S.OK)).toBe(true);
    expect(seen.size).toBeGreaterThan(2);
  });

  test("every single-character edit of canonical frames", () => {
    const base = [
      '{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"16500.01000000","q":"0.00100000","T":1672515782136,"m":true,"M":true}}',
      '{"e":"trade","E":1672515782136,"s":"AB","t":9,"p":"1","q":"0.5","T":1672515782136,"m":false}',
      '{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"ETHUSDT","a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1672515782136,"m":true,"M":true}}',
      '{"u":400900217,"s":"DOGEUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}',
      '{"stream":"dogeusdt@bookTicker","data":{"u":400900217,"s":"DOGEUSDT","b":"25.3519","B":"31.21","a":"25.3652","A":"40.66"}}',
    ];
    const subs = [
      "0",
      "1",
      "9",
      '"',
      "}",
      "{",
      ",",
      ":",
      ".",
      " ",
      "x",
      "E",
      "-",
      "\\",
      "é",
      "\u0122",
      "\u012c",
    ];
    for (const f of base) {
      expect(agree(f, false)).toBe(S.OK);
      for (let i = 0; i < f.length; i++) {
        agree(f.slice(0, i) + f.slice(i + 1), false); // deletion
        for (const c of subs) {
          agree(f.slice(0, i) + c + f.slice(i + 1), false);
          agree(f.slice(0, i) + c + f.slice(i), true); // insertion
        }
      }
      agree(`${f} `, false);
      agree(`${f}}`, false);
      agree(f.slice(0, -1), false);
    }
  });
});
