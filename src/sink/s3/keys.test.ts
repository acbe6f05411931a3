import { describe, expect, test } from "bun:test";
import { toObjectStoreError } from "./errors.ts";
import { listPrefix, localPath, objectKey, parseObjectKey } from "./keys.ts";

const f = {
  table: "trades" as const,
  date: "2024-03-01",
  symbol: "BTCUSDT",
  name: "0000000000000001-0000000000000009-1700000000000-000001.parquet",
};

describe("object keys mirror the Hive layout", () => {
  test("round trip, with and without a prefix", () => {
    const k = objectKey("k2/prod", f);
    expect(k).toBe(`k2/prod/trades/date=2024-03-01/symbol=BTCUSDT/${f.name}`);
    expect(parseObjectKey("k2/prod", k)).toEqual(f);
    expect(objectKey("", f)).toBe(`trades/date=2024-03-01/symbol=BTCUSDT/${f.name}`);
    expect(parseObjectKey("", objectKey("", f))).toEqual(f);
    expect(localPath("/d", f)).toBe(`/d/trades/date=2024-03-01/symbol=BTCUSDT/${f.name}`);
  });

  test("keys that are not K2 data files are someone else's", () => {
    const other = [
      "k2/README.txt",
      "k2/trades/date=2024-03-01/symbol=BTCUSDT/notes.csv",
      `k2/trades/date=2024-03-01/symbol=BTCUSDT/.tmp-${f.name}`,
      `k2/trades/date=2024-02-30/symbol=BTCUSDT/${f.name}`,
      `k2/orders/date=2024-03-01/symbol=BTCUSDT/${f.name}`,
      `k2/trades/date=2024-03-01/symbol=btc/${f.name}`,
      `k2/wal/trades/date=2024-03-01/symbol=BTCUSDT/${f.name}`,
      // A sibling prefix that merely starts with the same letters.
      `k2x/trades/date=2024-03-01/symbol=BTCUSDT/${f.name}`,
    ];
    for (const k of other) expect(parseObjectKey("k2", k)).toBeNull();
    expect(listPrefix("k2")).toBe("k2/");
    expect(listPrefix("")).toBe("");
  });

  test("S3 and errno codes map to kinds that say whether waiting helps", () => {
    const e = (code: string) => toObjectStoreError("put", "k", Object.assign(new Error("x"), { code }));
    expect(e("ConnectionRefused")).toMatchObject({ kind: "unreachable", retryable: true });
    expect(e("NoSuchBucket")).toMatchObject({ kind: "no_bucket", retryable: false });
    expect(e("SignatureDoesNotMatch")).toMatchObject({ kind: "denied", retryable: false });
    expect(e("SlowDown")).toMatchObject({ kind: "server", retryable: true });
    expect(e("ENOENT")).toMatchObject({ kind: "local", retryable: true });
    expect(e("ConnectionRefused").message).toBe("put k: ConnectionRefused: x");
  });
});
