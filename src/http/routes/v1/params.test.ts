import { describe, expect, test } from "bun:test";
import { formatDecimal } from "../../../model/decimal.ts";
import { HttpError } from "../../errors.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { decimalText, isoUs, isoUsReference, negotiate } from "./format.ts";
import {
  ANON_BUCKETS_MAX,
  DEFAULT_GUARD_OPTIONS,
  Guard,
  isLoopbackHost,
  matchKey,
  TokenBucket,
} from "./guard.ts";
import { timeValueUs as parseTimeUs } from "./values.ts";

describe("times", () => {
  test("ISO-8601 to the µs, zones, dates and epoch ms", () => {
    expect(parseTimeUs("2024-01-02T03:04:05.123456Z", "start")).toBe(
      Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123_456,
    );
    expect(parseTimeUs("2024-01-02T03:04:05.1", "start")).toBe(
      Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 100_000,
    );
    expect(parseTimeUs("2024-01-02T05:04+02:00", "start")).toBe(Date.UTC(2024, 0, 2, 3, 4) * 1000);
    expect(parseTimeUs("2024-01-02", "start")).toBe(Date.UTC(2024, 0, 2) * 1000);
    expect(parseTimeUs("1704067200123", "end")).toBe(1_704_067_200_123_000);
    expect(() => parseTimeUs("2023-02-29", "end")).toThrow(HttpError);
    expect(() => parseTimeUs("0024-02-29", "end")).toThrow("before 1970");
    expect(() => parseTimeUs("2024-13-01T00:00Z", "end")).toThrow("months run from 01 to 12");
    expect(parseTimeUs("2024-02-29T23:59:59.999999-14:00", "end")).toBe(
      Date.UTC(2024, 2, 1, 13, 59, 59) * 1000 + 999_999,
    );
    expect(parseTimeUs("0", "start")).toBe(0);
    expect(isoUs(1_704_067_200_000_007)).toBe("2024-01-01T00:00:00.000007Z");
  });
});

describe("fast serializers agree with the obvious ones", () => {
  test("isoUs equals the Date#toISOString reference across days, edges and far dates", () => {
    let seed = 3;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 4_294_967_296;
    };
    const cases = [0, 1, 999_999, 86_399_999_999, 86_400_000_000, 9_007_199_254_740_991, -1, -86_400_000_001];
    for (let i = 0; i < 20_000; i++) cases.push(Math.floor(rnd() * 4e15) - 1e14);
    for (const us of cases) expect([us, isoUs(us)]).toEqual([us, isoUsReference(us)]);
  });
});

describe("cursors", () => {
  test("round trip, and refusal of another query's cursor", () => {
    const c = encodeCursor(["trades", "BTCUSDT", "asc", 42]);
    expect(decodeCursor(c, ["trades", "BTCUSDT", "asc"])).toEqual(["42"]);
    expect(() => decodeCursor(c, ["trades", "ETHUSDT", "asc"])).toThrow("different query");
    expect(() => decodeCursor("AAAA", ["trades", "BTCUSDT", "asc"])).toThrow("not a cursor");
  });
});

describe("negotiation", () => {
  test("format= wins, then Accept, then JSON", () => {
    expect(negotiate("csv", "application/msgpack")).toBe("csv");
    expect(negotiate(undefined, "text/html, application/x-msgpack;q=0.9")).toBe("msgpack");
    expect(negotiate(undefined, "application/vnd.apache.parquet")).toBe("parquet");
    expect(negotiate(undefined, "*/*")).toBe("json");
    expect(negotiate(undefined, null)).toBe("json");
  });
});

describe("guard parts", () => {
  test("keys match in full only; loopback hosts", async () => {
    const { createHash } = await import("node:crypto");
    const d = ["abc", "secret-2"].map((k) => createHash("sha256").update(k).digest());
    expect(matchKey("secret-2", d)).toBe(1);
    expect(matchKey("secret-", d)).toBe(-1);
    expect(matchKey("", d)).toBe(-1);
    expect([
      isLoopbackHost("127.0.0.1"),
      isLoopbackHost("::1"),
      isLoopbackHost("0.0.0.0"),
      isLoopbackHost("10.0.0.2"),
    ]).toEqual([true, true, false, false]);
  });

  test("anonymous buckets: one per address, bounded, least recently seen dropped first", () => {
    const g = new Guard({ ...DEFAULT_GUARD_OPTIONS, rateLimitBurst: 1, rateLimitPerSec: 1 }, () => 0);
    const hit = (address: string) => {
      try {
        g.check(new Request("http://localhost/v1/symbols"), {}, address);
        return 200;
      } catch (e) {
        return (e as HttpError).status;
      }
    };
    expect([hit("a"), hit("a"), hit("b")]).toEqual([200, 429, 200]);
    for (let i = 0; i < ANON_BUCKETS_MAX - 1; i++) hit(`x${i}`); // "a" is now the least recently seen
    expect(g.evictedAnon).toBe(1);
    expect(hit("b")).toBe(429); // still held
    expect(hit("a")).toBe(200); // dropped, so it starts full again
  });

  test("token bucket refills at its rate and never above its burst", () => {
    const b = new TokenBucket(2, 4, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 1]);
    expect(b.take(250)).toBe(0); // 4/s → one token per 250 ms
    expect(b.take(10_000)).toBe(0);
    expect(b.tokens).toBe(1);
  });
});

describe("decimalText", () => {
  test("equals formatDecimal everywhere, including near integer boundaries and beyond 2^53", () => {
    const xs: bigint[] = [0n, 1n, 99_999_999n, 100_000_000n, 100_000_001n, 4_019_076_358_352n];
    for (const k of [1n, 7n, 90_071_992n, 90_071_991n, 12_345_678n])
      for (const d of [-2n, -1n, 0n, 1n, 2n]) xs.push(k * 100_000_000n + d);
    xs.push(
      BigInt(Number.MAX_SAFE_INTEGER),
      BigInt(Number.MAX_SAFE_INTEGER) + 1n,
      10n ** 30n + 5n,
      -5n,
      -123_456_789n,
    );
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      xs.push(BigInt(seed) * BigInt(seed % 4_194_304));
    }
    for (const x of xs) expect(decimalText(x)).toBe(formatDecimal(x));
  });
});
