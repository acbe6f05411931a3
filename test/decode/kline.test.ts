/**
 * The kline decoder (src/decode/binance/kline.ts) against a JSON.parse + parseDecimal oracle over
 * every fixture in test/fixtures/binance/kline (provenance in ../fixtures/SOURCES.md) and over
 * frames the simulator renders, in string and bytes form; refusals with their precise statuses;
 * only the given slot is written.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeKlineFrame,
  DecodeStatus as S,
  SymbolLookup,
  statusName,
} from "../../src/decode/binance/index.ts";
import { allocKlineColumns, type KlineColumns, parseDecimal, SymbolTable } from "../../src/model/index.ts";
import { klineJson } from "../../src/sim/frames.ts";
import { KlineBuilder } from "../../src/sim/klines.ts";
import { FIXTURE_SYMBOLS } from "./make-fixtures.ts";

const DIR = join(import.meta.dir, "../fixtures/binance/kline");
const table = new SymbolTable(FIXTURE_SYMBOLS);
const symbols = new SymbolLookup(table);
const SLOT = 2;
const enc = new TextEncoder();

interface KlineRow {
  symbol: number;
  event: number;
  open: number;
  close: number;
  first: number;
  last: number;
  n: number;
  decimals: bigint[];
  closed: number;
}

function readKline(k: KlineColumns, i: number): KlineRow {
  return {
    symbol: k.symbol_id[i]!,
    event: k.event_time_us[i]!,
    open: k.open_time_us[i]!,
    close: k.close_time_us[i]!,
    first: k.first_id[i]!,
    last: k.last_id[i]!,
    n: k.trades[i]!,
    decimals: [
      k.open,
      k.high,
      k.low,
      k.close,
      k.volume,
      k.quote_volume,
      k.taker_buy_volume,
      k.taker_buy_quote_volume,
    ].map((c) => c[i]!),
    closed: k.closed[i]!,
  };
}

/** The reference: JSON.parse the frame (unwrapping a combined one) and parse each field plainly. */
function oracle(frame: string, timeUnitUs: boolean): KlineRow {
  const j = JSON.parse(frame) as Record<string, unknown>;
  const ev = (j.data ?? j) as { E: number; s: string; k: Record<string, string | number | boolean> };
  const m = timeUnitUs ? 1 : 1000;
  const k = ev.k;
  const d = (key: string) => parseDecimal(k[key] as string)!;
  return {
    symbol: table.id(ev.s)!,
    event: ev.E * m,
    open: (k.t as number) * m,
    close: (k.T as number) * m,
    first: k.f as number,
    last: k.L as number,
    n: k.n as number,
    decimals: ["o", "h", "l", "c", "v", "q", "V", "Q"].map(d),
    closed: k.x ? 1 : 0,
  };
}

/** Decode into SLOT of columns pre-filled with a sentinel; every other slot must stay as it was. */
function decode(frame: string | Uint8Array, timeUnitUs: boolean): { status: number; out: KlineColumns } {
  const out = allocKlineColumns(5);
  out.trades.fill(-9);
  out.open.fill(-9n);
  const status = decodeKlineFrame(frame, symbols, out, SLOT, timeUnitUs);
  for (let i = 0; i < 5; i++)
    if (i !== SLOT) expect([out.trades[i], out.open[i], out.closed[i]]).toEqual([-9, -9n, 0]);
  return { status, out };
}

function checkValid(frame: string, timeUnitUs: boolean): void {
  for (const form of [frame, enc.encode(frame)]) {
    const { status, out } = decode(form, timeUnitUs);
    expect(statusName(status)).toBe("ok");
    expect(readKline(out, SLOT)).toEqual(oracle(frame, timeUnitUs));
  }
}

describe("kline fixtures decode to what the oracle says", () => {
  for (const file of readdirSync(DIR).sort()) {
    test(file, () => {
      const lines = readFileSync(join(DIR, file), "utf8").split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) checkValid(line, file.includes("timeunit-us"));
    });
  }

  test("the no-trade minute keeps f = L = -1 and n = 0", () => {
    const line = readFileSync(join(DIR, "no-trades.jsonl"), "utf8").trim();
    const { out } = decode(line, false);
    expect([out.first_id[SLOT], out.last_id[SLOT], out.trades[SLOT], out.closed[SLOT]]).toEqual([
      -1, -1, 0, 1,
    ]);
  });
});

test("frames the simulator renders (closed, empty and open minutes, ms and µs) decode exactly", () => {
  const t0 = Date.UTC(2025, 0, 1) * 1000;
  const b = new KlineBuilder(6_500_001_000_000);
  b.startAt(t0);
  for (let i = 0; i < 50; i++)
    b.add(1000 + i, 6_500_001_000_000 + (i % 7) * 1_000_000, 1000 * (1 + i), t0 + i * 1_000_000, i % 3 === 0);
  b.add(1050, 6_400_000_000_000, 123_456, t0 + 150_000_000, false);
  const ks: ReturnType<KlineBuilder["current"]>[] = [];
  b.closeUntil(t0 + 180_000_000);
  b.takeClosed(ks as never[]);
  ks.push(b.current());
  expect(ks.map((k) => k!.count)).toEqual([50, 0, 1, 0]);
  for (const k of ks)
    for (const us of [false, true]) checkValid(klineJson("BTCUSDT", k!, t0 + 200_000_000, us), us);
});

describe("refusals carry the precise status", () => {
  const doc = readFileSync(join(DIR, "doc-example.jsonl"), "utf8").split("\n")[0]!;
  const cases: Array<[string, string, number]> = [
    ["another interval", doc.replace('"i":"1m"', '"i":"5m"'), S.NOT_CONFIGURED],
    ["an unknown symbol", doc.replaceAll("BNBBTC", "ZZZZZZZ"), S.NOT_CONFIGURED],
    [
      "a combined stream other than @kline_1m",
      `{"stream":"bnbbtc@kline_5m","data":${doc}}`,
      S.NOT_CONFIGURED,
    ],
    ["another event", doc.replace('"e":"kline"', '"e":"trade"'), S.UNKNOWN_EVENT],
    ["a missing count", doc.replace('"n":100,', ""), S.MISSING_FIELD],
    ["a missing k", '{"e":"kline","E":1,"s":"BNBBTC"}', S.MISSING_FIELD],
    ["a combined frame without data", '{"stream":"bnbbtc@kline_1m"}', S.MISSING_FIELD],
    ["f below -1", doc.replace('"f":100', '"f":-2'), S.ID_OUT_OF_RANGE],
    ["f = -1.5", doc.replace('"f":100', '"f":-1.5'), S.BAD_NUMBER],
    ["a price as a number", doc.replace('"o":"0.0010"', '"o":0.001'), S.BAD_TYPE],
    ["nine fraction digits", doc.replace('"o":"0.0010"', '"o":"0.000000001"'), S.BAD_DECIMAL],
    ["x as a string", doc.replace('"x":false', '"x":"false"'), S.BAD_TYPE],
    ["s and k.s disagree", doc.replace('"s":"BNBBTC","i"', '"s":"BTCUSDT","i"'), S.MALFORMED],
    ["a duplicate key", doc.replace('"n":100', '"n":100,"n":101'), S.MALFORMED],
    ["a truncated frame", doc.slice(0, 120), S.TRUNCATED],
    ["trailing garbage", `${doc}x`, S.MALFORMED],
  ];
  for (const [what, frame, want] of cases) {
    test(what, () => {
      expect(statusName(decode(frame, false).status)).toBe(statusName(want));
      expect(statusName(decode(enc.encode(frame), false).status)).toBe(statusName(want));
    });
  }
  test("invalid UTF-8 and oversized frames", () => {
    const bytes = enc.encode(doc);
    bytes[30] = 0xff;
    expect(statusName(decode(bytes, false).status)).toBe("bad_utf8");
    expect(statusName(decode(" ".repeat(70_000), false).status)).toBe("too_large");
  });
});
