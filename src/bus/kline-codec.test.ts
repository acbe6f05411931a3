import { describe, expect, test } from "bun:test";
import { allocRowColumns, Table } from "../model/index.ts";
import { allocKlineColumns, type KlineColumns } from "../model/kline.ts";
import { encodeRows } from "./codec.ts";
import { BusError } from "./errors.ts";
import { decodeKline, encodeKline, KLINE_BODY_BYTES } from "./kline-codec.ts";
import {
  klineSubjectOf,
  parseKlineSubject,
  parseSubject,
  shardFilter,
  shardOf,
  subjectOf,
} from "./subjects.ts";

/** Kline in slot 1 of 3, every field distinct (decimals past 2^53, ids past 2^32). */
function kline(): KlineColumns {
  const k = allocKlineColumns(3);
  k.symbol_id[1] = 4;
  k.event_time_us[1] = 1_735_776_060_001_000;
  k.open_time_us[1] = 1_735_776_000_000_000;
  k.close_time_us[1] = 1_735_776_059_999_999;
  k.first_id[1] = 9_000_000_001;
  k.last_id[1] = 9_000_000_321;
  k.trades[1] = 321;
  k.open[1] = 9_007_199_254_740_993n;
  k.high[1] = 9_007_199_254_740_999n;
  k.low[1] = 1n;
  k.close[1] = 42_000_00000000n;
  k.volume[1] = 123_456_789n;
  k.quote_volume[1] = -5n;
  k.taker_buy_volume[1] = 77n;
  k.taker_buy_quote_volume[1] = 88n;
  k.closed[1] = 1;
  return k;
}

const FIELDS = [
  "event_time_us",
  "open_time_us",
  "close_time_us",
  "first_id",
  "last_id",
  "trades",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "quote_volume",
  "taker_buy_volume",
  "taker_buy_quote_volume",
  "closed",
] as const;

describe("kline on the bus", () => {
  test("every field survives encode → decode, into another slot with the receiver's symbol id", () => {
    const k = kline();
    const body = encodeKline(k, 1);
    expect(body.length).toBe(KLINE_BODY_BYTES);
    const out = allocKlineColumns(2);
    // A body inside a larger receive buffer, not 8-byte aligned.
    const inside = new Uint8Array(body.length + 3);
    inside.set(body, 3);
    decodeKline(inside.subarray(3), out, 1, 9);
    for (const f of FIELDS) expect({ f, v: out[f][1] }).toEqual({ f, v: k[f][1]! });
    expect(out.symbol_id[1]).toBe(9);
    expect(out.open_time_us[0]).toBe(0);
  });

  test.each([
    ["a truncated body", (b: Uint8Array) => b.subarray(0, 100), /100 bytes, a kline takes 121/],
    ["another format version", (b: Uint8Array) => b.with(0, 9), /format version 9/],
    ["a rows body's tag", (b: Uint8Array) => b.with(1, Table.trades), /tag \d+, a kline has 254/],
    ["a closed flag of 2", (b: Uint8Array) => b.with(120, 2), /closed flag 2/],
  ])("%s is a malformed BusError", (_, spoil, msg) => {
    const bad = spoil(encodeKline(kline(), 1));
    let err: unknown;
    try {
      decodeKline(bad, allocKlineColumns(1), 0, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).kind).toBe("malformed");
    expect((err as Error).message).toMatch(msg);
  });

  test("a trades body is refused as a kline", () => {
    const rows = allocRowColumns(2);
    rows.kind.fill(Table.trades);
    expect(() => decodeKline(encodeRows(rows, 0, 2, "trades"), allocKlineColumns(1), 0, 0)).toThrow(BusError);
  });
});

describe("kline subjects", () => {
  test("k2.klines.<shard>.<SYMBOL>: the symbol's shard, inside its writer's filter, parsed back", () => {
    for (const sym of ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]) {
      const s = klineSubjectOf(sym, 4);
      expect(s).toBe(`k2.klines.${shardOf(sym, 4)}.${sym}`);
      // Same shard as the symbol's trades: the writer of the trades judges the klines.
      expect(s.split(".")[2]).toBe(subjectOf("trades", sym, 4).split(".")[2]!);
      const filter = shardFilter(shardOf(sym, 4), 4);
      const re = new RegExp(`^${filter.replaceAll(".", "\\.").replaceAll("*", "[^.]+")}$`);
      expect(re.test(s)).toBe(true);
      expect(parseKlineSubject(s)).toEqual({ shard: shardOf(sym, 4), symbol: sym });
    }
  });

  test("table subjects are not kline subjects, and klines are not a table", () => {
    expect(parseKlineSubject(subjectOf("trades", "BTCUSDT", 2))).toBeUndefined();
    expect(() => parseSubject(klineSubjectOf("BTCUSDT", 2))).toThrow(/is not k2\.<table>/);
  });

  test.each(["k2.klines.x.BTCUSDT", "k2.klines.0.btcusdt", "k2.klines.5000.BTCUSDT"])(
    "%s is refused as a malformed kline subject",
    (s) => {
      expect(() => parseKlineSubject(s)).toThrow(/is not k2\.klines\.<shard>\.<SYMBOL>/);
    },
  );
});
