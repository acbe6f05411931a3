/**
 * Property: for generated frames (any key order, any JSON whitespace, raw or combined in either
 * wrapper order, JSON escapes, unknown keys with arbitrary nested JSON, sometimes a wrong value
 * or a missing key) decodeFrame returns exactly what the oracle says, in string and bytes form.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeFrame, SymbolLookup, statusName } from "../../src/decode/binance/index.ts";
import { allocRowColumns, SymbolTable } from "../../src/model/index.ts";
import { escapeOne, makeSymbols, type RenderOptions, Rng, render, WS } from "./gen.ts";
import { INVALID_JSON, oracle, readRow } from "./oracle.ts";

const SYMBOLS = makeSymbols(64, 3);
const table = new SymbolTable(SYMBOLS);
const symbols = new SymbolLookup(table);
const enc = new TextEncoder();

const KEYS = {
  trade: { e: "event", E: "time", s: "sym", t: "id", p: "dec", q: "dec", T: "time", m: "bool" },
  aggTrade: {
    e: "event",
    E: "time",
    s: "sym",
    a: "id",
    p: "dec",
    q: "dec",
    f: "id",
    l: "id",
    T: "time",
    m: "bool",
  },
  bookTicker: { u: "id", s: "sym", b: "dec", B: "dec", a: "dec", A: "dec" },
} as const;
type Kind = keyof typeof KEYS;

const BAD = fc.constantFrom(
  "null",
  '"x"',
  "1.5",
  "-3",
  "1e3",
  '"1.5"',
  "true",
  "{}",
  "[]",
  '"-1"',
  '"1."',
  '".5"',
  "99999999999999999999",
  '"00.10"',
  '{"a":[1,{"b":null}]}',
);
/** `arb` one time in eight, else `usual`: most frames stay valid so the OK path is well covered. */
const rarely = <T, U>(arb: fc.Arbitrary<T>, usual: U): fc.Arbitrary<T | U> =>
  fc.oneof({ weight: 1, arbitrary: arb }, { weight: 7, arbitrary: fc.constant(usual) });
const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const VALID: Record<string, fc.Arbitrary<string>> = {
  dec: fc
    .tuple(
      fc.oneof({ weight: 9, arbitrary: digits(1, 10) }, { weight: 1, arbitrary: digits(11, 12) }),
      fc.oneof(
        { weight: 9, arbitrary: fc.option(digits(1, 8), { nil: undefined }) },
        { weight: 1, arbitrary: digits(9, 10) },
      ),
    )
    .map(([i, f]) => JSON.stringify(f === undefined ? i : `${i}.${f}`)),
  id: fc
    .oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 0))
    .map(String),
  time: fc
    .oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.constantFrom(9_007_199_254_740, 2 ** 53 - 1))
    .map(String),
  sym: rarely(fc.constantFrom("NOPE", "btcusdt"), "").chain((bad) =>
    fc.constantFrom(...(bad ? [bad] : SYMBOLS)).map((s) => JSON.stringify(s)),
  ),
  bool: fc.boolean().map(String),
  event: fc.constant('"x"'), // replaced by the kind's own name below
};

const frameArb = fc
  .record({
    kind: fc.constantFrom<Kind>("trade", "aggTrade", "bookTicker"),
    values: rarely<Record<string, string>, Record<string, string>>(
      fc.dictionary(
        fc.constantFrom("E", "T", "s", "t", "a", "p", "q", "f", "l", "u", "b", "B", "A", "m"),
        BAD,
        {
          minKeys: 1,
          maxKeys: 1,
        },
      ),
      {},
    ),
    validSeed: fc.integer(),
    drop: rarely(fc.nat(9), undefined),
    extra: fc.uniqueArray(
      fc.tuple(fc.constantFrom("M", "X", "x", "ignore", "w", "\u00e9t\u00e9"), fc.json()),
      {
        selector: (t) => t[0],
        maxLength: 3,
      },
    ),
    order: fc.array(fc.double({ noNaN: true }), { minLength: 16, maxLength: 16 }),
    ws: fc.array(fc.constantFrom(...WS), { minLength: 1, maxLength: 8 }),
    combined: fc.option(
      fc.record({ dataFirst: fc.boolean(), other: rarely(fc.constantFrom("@depth", "!serverShutdown"), "") }),
    ),
    escape: fc.boolean(),
    timeUnitUs: fc.boolean(),
  })
  .chain((r) =>
    fc
      .tuple(...Object.values(KEYS[r.kind]).map((t) => VALID[t]!))
      .map((valid) => ({ ...r, valid: valid as string[] })),
  );

describe("decodeFrame equals the oracle on generated frames", () => {
  test("random key order, whitespace, wrappers, escapes, unknown keys, bad values", () => {
    const out = allocRowColumns(2);
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(frameArb, (r) => {
        const names = Object.keys(KEYS[r.kind]);
        const rng = new Rng(r.validSeed);
        let fields: [string, string][] = names.map((k, i) => [k, r.values[k] ?? r.valid[i]!]);
        if (r.kind === "trade" || r.kind === "aggTrade") fields[0] = ["e", JSON.stringify(r.kind)];
        if (r.drop !== undefined && r.drop < fields.length) fields.splice(r.drop, 1);
        fields.push(...r.extra.map(([k, v]) => [k, v] as [string, string]));
        fields = fields
          .map((f, i) => [f, r.order[i % 16]!] as const)
          .sort((x, y) => x[1] - y[1])
          .map(([f]) => f);
        if (r.escape) {
          const i = rng.int(fields.length);
          const [k, v] = fields[i]!;
          fields[i] = [k, escapeOne(rng, v)];
        }
        let w = 0;
        const symbol = (JSON.parse(r.valid[names.indexOf("s")]!) as string).toLowerCase();
        const opts: RenderOptions = {
          ws: () => r.ws[w++ % r.ws.length]!,
          combined: r.combined
            ? {
                dataFirst: r.combined.dataFirst,
                stream:
                  r.combined.other === "!serverShutdown"
                    ? "!serverShutdown"
                    : `${symbol}@${r.kind}${r.combined.other}`,
              }
            : null,
          escape: (s) => (r.escape ? escapeOne(rng, s) : s),
        };
        const frame = render(fields, opts);
        const exp = oracle(frame, table, 42, r.timeUnitUs);
        expect(exp.status).not.toBe(INVALID_JSON);
        seen.set(statusName(exp.status), (seen.get(statusName(exp.status)) ?? 0) + 1);
        for (const form of [frame, enc.encode(frame)]) {
          const got = decodeFrame(form, symbols, out, 1, 42, r.timeUnitUs);
          expect(statusName(got)).toBe(statusName(exp.status));
          if (exp.row) expect(readRow(out, 1)).toEqual(exp.row);
        }
      }),
      { numRuns: 3000, seed: 20240601 },
    );
    // The generator reaches the success path and the semantic failure statuses, not one of them.
    expect(seen.get("ok") ?? 0).toBeGreaterThan(300);
    for (const s of [
      "bad_type",
      "bad_decimal",
      "bad_number",
      "id_out_of_range",
      "missing_field",
      "not_configured",
    ])
      expect(seen.get(s) ?? 0).toBeGreaterThan(10);
  });
});
