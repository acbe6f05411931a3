import { describe, expect, test } from "bun:test";
import {
  allocRowColumns,
  ROW_ARRAYS,
  type RowColumns,
  TABLE_NAMES,
  TABLE_ROW_SLOTS,
  Table,
  type TableName,
  WIDE_COLUMNS,
} from "../model/index.ts";
import { BUS_COLUMNS, decodeRows, encodedBytes, encodedRowCount, encodeRows } from "./codec.ts";
import { BusError } from "./errors.ts";

/** Rows 0..n-1 of `table`, symbol id 7, every column distinct (decimals past 2^32 and 2^53). */
function rowsOf(table: TableName, n: number): RowColumns {
  const r = allocRowColumns(n);
  for (let i = 0; i < n; i++) {
    r.kind[i] = Table[table];
    r.symbol_id[i] = 7;
    r.id[i] = 9_000_000_000_000 + i;
    r.first_id[i] = table === "agg_trades" ? 100 + i : 0;
    r.last_id[i] = table === "agg_trades" ? 200 + i : 0;
    r.trade_time_us[i] = table === "quotes" ? 0 : 1_764_000_000_000_000 + i;
    r.event_time_us[i] = 1_764_000_000_000_500 + i;
    r.recv_time_us[i] = 1_764_000_000_001_000 + i;
    r.dec0[i] = 9_007_199_254_740_993n + BigInt(i);
    r.dec1[i] = 4_294_967_297n * BigInt(i + 1);
    r.dec2[i] = table === "quotes" ? 123_456_789n + BigInt(i) : 0n;
    r.dec3[i] = table === "quotes" ? 1n + BigInt(i) : 0n;
    r.flags[i] = table === "quotes" ? 0 : i % 2;
  }
  // A table's rows leave the columns it does not use zero (the order books: model/book-rows.ts).
  for (const c of WIDE_COLUMNS) if (!TABLE_ROW_SLOTS[table].includes(c)) new Uint8Array(r[c].buffer).fill(0);
  return r;
}

const COLUMNS = ROW_ARRAYS;

function expectRowsEqual(
  a: RowColumns,
  from: number,
  b: RowColumns,
  to: number,
  n: number,
  symbolId: number,
) {
  for (let i = 0; i < n; i++)
    for (const c of COLUMNS) {
      const want = c === "symbol_id" ? symbolId : a[c][from + i];
      expect([c, b[c][to + i]]).toEqual([c, want]);
    }
}

describe("encodeRows / decodeRows", () => {
  test.each(TABLE_NAMES.map((t) => [t]))(
    "%s rows come back exactly, under the reader's symbol id",
    (table) => {
      const src = rowsOf(table, 6);
      const body = encodeRows(src, 2, 3, table);
      expect(body.length).toBe(encodedBytes(table, 3));
      expect(encodedRowCount(body)).toBe(3);
      const dst = allocRowColumns(10);
      // Garbage where the rows land: decode must leave the unused columns zero, as decoders do.
      for (const c of COLUMNS)
        (dst[c] as Uint8Array).fill(c.startsWith("dec") ? (5n as never) : (5 as never));
      expect(decodeRows(body, table, dst, 4, 42)).toBe(3);
      expectRowsEqual(src, 2, dst, 4, 3, 42);
      expect(dst.id[3]).toBe(5);
      expect(dst.id[7]).toBe(5);
    },
  );

  test("a body at an odd offset of a larger buffer (as a client may hand it) decodes the same", () => {
    const src = rowsOf("trades", 4);
    const body = encodeRows(src, 0, 4, "trades");
    const big = new Uint8Array(body.length + 3);
    big.set(body, 3);
    const dst = allocRowColumns(4);
    decodeRows(big.subarray(3), "trades", dst, 0, 7);
    expectRowsEqual(src, 0, dst, 0, 4, 7);
    // A Node Buffer view, as the NATS client hands message data (its slice() is not a copy).
    const dst2 = allocRowColumns(4);
    decodeRows(Buffer.from(big.buffer, 3, body.length), "trades", dst2, 0, 7);
    expectRowsEqual(src, 0, dst2, 0, 4, 7);
  });

  test("sizes: 8-byte header, 8 bytes per used column, 1 flag byte for trades", () => {
    expect(encodedBytes("trades", 1)).toBe(8 + 8 * BUS_COLUMNS.trades.length + 1);
    expect(encodedBytes("quotes", 100)).toBe(8 + 100 * 8 * 7);
  });

  test("one message holds one (table, symbol): mixed rows are refused", () => {
    const src = rowsOf("trades", 3);
    src.symbol_id[2] = 8;
    expect(() => encodeRows(src, 0, 3, "trades")).toThrow(/row 2 is not a trades row of symbol id 7/);
    expect(() => encodeRows(src, 0, 2, "quotes")).toThrow(/row 0 is not a quotes row/);
    expect(() => encodeRows(src, 2, 2, "trades")).toThrow(/not inside a buffer of 3/);
  });

  test.each([
    ["truncated", (b: Uint8Array) => b.subarray(0, b.length - 1), /bytes, 2 rows take/],
    ["shorter than a header", (b: Uint8Array) => b.subarray(0, 5), /shorter than the 8-byte header/],
    [
      "another version",
      (b: Uint8Array) => {
        const c = b.slice();
        c[0] = 9;
        return c;
      },
      /format version 9/,
    ],
  ])("a %s body is a malformed BusError that says what is wrong", (_name, damage, msg) => {
    const body = damage(encodeRows(rowsOf("quotes", 2), 0, 2, "quotes"));
    let err: unknown;
    try {
      decodeRows(body, "quotes", allocRowColumns(4), 0, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).kind).toBe("malformed");
    expect((err as Error).message).toMatch(msg);
  });

  test("a body whose table disagrees with its subject, or that does not fit, is refused", () => {
    const body = encodeRows(rowsOf("trades", 2), 0, 2, "trades");
    expect(() => decodeRows(body, "agg_trades", allocRowColumns(4), 0, 1)).toThrow(
      /table id 1, the subject says agg_trades/,
    );
    expect(() => decodeRows(body, "trades", allocRowColumns(4), 3, 1)).toThrow(/do not fit at slot 3 of 4/);
  });
});
