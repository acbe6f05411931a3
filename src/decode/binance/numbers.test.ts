import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseDecimal } from "../../model/index.ts";
import { scanDecimal, scanId, scanTime } from "./numbers.ts";
import { DecodeStatus as S } from "./status.ts";

const w = new Uint32Array(4);
const b = new BigInt64Array(w.buffer);

/** Scan `"text"` as a decimal; the scaled value or the status. */
function dec(text: string, bytes = false): bigint | number {
  const q = `"${text}"`;
  const src = bytes ? new TextEncoder().encode(q) : q;
  const r = scanDecimal(src, 0, q.length, w, 1);
  if (r < 0) return -r;
  expect(r).toBe(q.length);
  return b[1]!;
}

describe("scanDecimal agrees with model parseDecimal", () => {
  test("edge values", () => {
    const cases = [
      "0",
      "0.00000001",
      "9999999999.99999999",
      "90071992.54740992",
      "90071991.99999999",
      "4294967296",
      "0000000000000001.1000000000",
      "1.",
      ".5",
      "-1",
      "1e5",
      "",
      "12345678901",
      "0.000000001",
      "1.0000000010",
    ];
    for (const c of cases) expect(dec(c)).toEqual(parseDecimal(c) ?? S.BAD_DECIMAL);
  });
  test("property: any digit string with an optional fraction, string and bytes form", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,12}(\.[0-9]{0,10})?$/), fc.boolean(), (t, bytes) => {
        expect(dec(t, bytes)).toEqual(parseDecimal(t) ?? S.BAD_DECIMAL);
      }),
      { numRuns: 5000, seed: 1 },
    );
  });
  test("a number where a string belongs is BAD_TYPE; an unterminated string is TRUNCATED", () => {
    expect(scanDecimal("1.5,", 0, 4, w, 0)).toBe(-S.BAD_TYPE);
    expect(scanDecimal('"1.5', 0, 4, w, 0)).toBe(-S.TRUNCATED);
  });
});

describe("scanId / scanTime", () => {
  const d = new Float64Array(1);
  const id = (s: string) => scanId(s, 0, s.length, d, 0);
  test("ids below 2^53 are exact; 2^53 and negatives are ID_OUT_OF_RANGE", () => {
    expect(id("9007199254740991")).toBe(16);
    expect(d[0]).toBe(2 ** 53 - 1);
    expect(id("9007199254740992")).toBe(-S.ID_OUT_OF_RANGE);
    expect(id("-1")).toBe(-S.ID_OUT_OF_RANGE);
    expect(id("1.5")).toBe(-S.BAD_NUMBER);
    expect(id("01")).toBe(-S.MALFORMED);
    expect(id('"1"')).toBe(-S.BAD_TYPE);
  });
  test("times: ms × 1000 or µs as is; over 2^53 µs is BAD_NUMBER", () => {
    expect(scanTime("1672515782136", 0, 13, d, 0, 1000)).toBe(13);
    expect(d[0]).toBe(1_672_515_782_136_000);
    expect(scanTime("1672515782136123", 0, 16, d, 0, 1)).toBe(16);
    expect(d[0]).toBe(1_672_515_782_136_123);
    expect(scanTime("9007199254741", 0, 13, d, 0, 1000)).toBe(-S.BAD_NUMBER);
  });
});
