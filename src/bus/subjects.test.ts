import { describe, expect, test } from "bun:test";
import type { BusError } from "./errors.ts";
import {
  batchMsgId,
  fnv1a32,
  parseSubject,
  rowMsgId,
  shardFilter,
  shardOf,
  subjectOf,
  symbolHash,
} from "./subjects.ts";

const PINNED_BTCUSDT = 118_853_083;

describe("symbolHash", () => {
  test("starts from 32-bit FNV-1a (published test vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  test("never changes: these placements are what every deployed recorder and writer computes", () => {
    // Pinned once from this implementation; a change here re-shards every symbol in production.
    expect(symbolHash("BTCUSDT")).toBe(PINNED_BTCUSDT);
    expect(shardOf("BTCUSDT", 4)).toBe(PINNED_BTCUSDT % 4);
  });

  test("symbols that differ only in a letter's high bits spread (bare FNV-1a keeps them together)", () => {
    // A (0x41) and Q (0x51) share their low 4 bits: FNV-1a mod 16 cannot tell them apart.
    const pairs = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"].map((c) => [
      `${c}USDT`,
      `${String.fromCharCode(c.charCodeAt(0) + 16)}USDT`,
    ]);
    for (const [x, y] of pairs) expect(fnv1a32(x!) % 16).toBe(fnv1a32(y!) % 16);
    const apart = pairs.filter(([x, y]) => shardOf(x!, 16) !== shardOf(y!, 16)).length;
    expect(apart).toBeGreaterThan(5);
  });

  test("spreads real-looking symbols over every shard", () => {
    const bases = ["BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "TRX", "LINK", "DOT", "LTC", "AVAX"];
    for (const n of [2, 4, 8]) {
      const counts = new Array<number>(n).fill(0);
      for (const b of bases) for (const q of ["USDT", "BTC", "FDUSD"]) counts[shardOf(`${b}${q}`, n)]!++;
      for (const c of counts) expect(c).toBeGreaterThan(0);
    }
  });
});

describe("subjects", () => {
  test("a subject carries table, shard and symbol and parses back", () => {
    const s = subjectOf("quotes", "BTCUSDT", 8);
    expect(s).toBe(`k2.quotes.${shardOf("BTCUSDT", 8)}.BTCUSDT`);
    expect(parseSubject(s)).toEqual({ table: "quotes", shard: shardOf("BTCUSDT", 8), symbol: "BTCUSDT" });
  });

  test("a writer's filter matches exactly its shard's subjects (one wildcard per token)", () => {
    const filter = shardFilter(3, 4);
    expect(filter).toBe("k2.*.3.*");
    const re = new RegExp(`^${filter.replaceAll(".", "\\.").replaceAll("*", "[^.]+")}$`);
    for (const sym of ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"])
      expect(re.test(subjectOf("trades", sym, 4))).toBe(shardOf(sym, 4) === 3);
  });

  test.each([
    ["k2.trades.0", "three tokens"],
    ["x2.trades.0.BTCUSDT", "another root"],
    ["k2.orders.0.BTCUSDT", "an unknown table"],
    ["k2.trades.-1.BTCUSDT", "a negative shard"],
    ["k2.trades.0.btcusdt", "a lower-case symbol"],
  ])("%s (%s) is refused with a message naming the expected shape", (subject) => {
    expect(() => parseSubject(subject)).toThrow(/is not k2\.<table>\.<shard>\.<SYMBOL>/);
    try {
      parseSubject(subject);
    } catch (e) {
      expect((e as BusError).kind).toBe("malformed");
      expect((e as BusError).retryable).toBe(false);
    }
  });

  test("shard settings out of range are a config error", () => {
    expect(() => shardFilter(4, 4)).toThrow(/from 0 to 3, got 4/);
    expect(() => shardFilter(0, 0)).toThrow(/from 1 to 1024, got 0/);
  });
});

describe("message ids", () => {
  test("a row's id is its exactly-once key: the same from any recorder", () => {
    expect(rowMsgId("trades", "BTCUSDT", 123)).toBe(rowMsgId("trades", "BTCUSDT", 123));
    expect(rowMsgId("trades", "BTCUSDT", 123)).not.toBe(rowMsgId("agg_trades", "BTCUSDT", 123));
  });

  test("a batch's id differs between recorders, so one's batch never hides the other's", () => {
    expect(batchMsgId("r1", "quotes", "BTCUSDT", 100, 110)).not.toBe(
      batchMsgId("r2", "quotes", "BTCUSDT", 100, 110),
    );
    expect(batchMsgId("r1", "quotes", "BTCUSDT", 100, 110)).not.toBe(
      batchMsgId("r1", "quotes", "BTCUSDT", 100, 111),
    );
  });
});
