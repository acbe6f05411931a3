import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  allocKlineColumns,
  allocRowColumns,
  FLAG_BUYER_MAKER,
  formatDecimal,
  parseDecimal,
  type RowColumns,
  Table,
} from "../model/index.ts";
import { ArchiveCsvParser, type CsvOutput } from "./csv.ts";
import { ArchiveError } from "./errors.ts";
import { archiveTimeToUs } from "./time-unit.ts";

const enc = new TextEncoder();
const RECV = 1_800_000_000_000_000;

interface Got {
  id: number;
  price: string;
  qty: string;
  first: number;
  last: number;
  timeUs: number;
  buyerMaker: boolean;
  kind: number;
}

/** Parse `text` pushed in the given chunk sizes (batches of 3 rows, to cross batch edges too). */
function parse(dataset: "trades" | "aggTrades", text: string, cuts: number[] = []): Got[] {
  const rows = allocRowColumns(3);
  const got: Got[] = [];
  const out: CsvOutput = {
    dataset,
    rows,
    flush: (n) => {
      for (let i = 0; i < n; i++) got.push(read(rows, i));
    },
  };
  const p = new ArchiveCsvParser(out, 7, RECV, "test.csv");
  const bytes = enc.encode(text);
  let at = 0;
  for (const c of cuts) {
    const to = Math.min(bytes.length, at + c);
    p.push(bytes.subarray(at, to));
    at = to;
  }
  p.push(bytes.subarray(at));
  p.end();
  return got;
}

function read(r: RowColumns, i: number): Got {
  expect(r.symbol_id[i]).toBe(7);
  expect(r.recv_time_us[i]).toBe(RECV);
  expect(r.event_time_us[i]).toBe(r.trade_time_us[i]!);
  expect(r.dec2[i]).toBe(0n);
  return {
    id: r.id[i]!,
    price: formatDecimal(r.dec0[i]!),
    qty: formatDecimal(r.dec1[i]!),
    first: r.first_id[i]!,
    last: r.last_id[i]!,
    timeUs: r.trade_time_us[i]!,
    buyerMaker: r.flags[i] === FLAG_BUYER_MAKER,
    kind: r.kind[i]!,
  };
}

function malformed(dataset: "trades" | "aggTrades", text: string): string {
  try {
    parse(dataset, text);
  } catch (e) {
    expect(e).toBeInstanceOf(ArchiveError);
    expect((e as ArchiveError).kind).toBe("malformed_line");
    return (e as Error).message;
  }
  throw new Error(`accepted: ${text}`);
}

describe("archive CSV: trades and aggTrades", () => {
  test("the issue's trades line, in ms and in µs, read into the trades row", () => {
    const got = parse(
      "trades",
      "4200000123,97123.45000000,0.00120000,116.54814000,1735689600123,True,True\n" +
        "4200000124,97123.46,0.5,48561.73,1735689600123456,False,True\n",
    );
    expect(got).toEqual([
      {
        id: 4200000123,
        price: "97123.45000000",
        qty: "0.00120000",
        first: 0,
        last: 0,
        timeUs: 1_735_689_600_123_000,
        buyerMaker: true,
        kind: Table.trades,
      },
      {
        id: 4200000124,
        price: "97123.46000000",
        qty: "0.50000000",
        first: 0,
        last: 0,
        timeUs: 1_735_689_600_123_456,
        buyerMaker: false,
        kind: Table.trades,
      },
    ]);
  });

  test("aggTrades carry first and last trade ids; CRLF and a missing final newline are fine", () => {
    const got = parse(
      "aggTrades",
      "17,0.00001234,1000000,100,105,1735689599999,false,true\r\n18,1,2,106,106,1735689600000001,True,True",
    );
    expect(got.map((g) => [g.id, g.price, g.first, g.last, g.timeUs, g.buyerMaker, g.kind])).toEqual([
      [17, "0.00001234", 100, 105, 1_735_689_599_999_000, false, Table.agg_trades],
      [18, "1.00000000", 106, 106, 1_735_689_600_000_001, true, Table.agg_trades],
    ]);
  });

  test("the largest DECIMAL(18,8) and id 2^53-1 are exact", () => {
    const [g] = parse("trades", "9007199254740991,9999999999.99999999,0.00000001,0,1,True,True\n");
    expect(g!.id).toBe(9007199254740991);
    expect(g!.price).toBe("9999999999.99999999");
    expect(g!.qty).toBe("0.00000001");
  });

  test("each malformed line names its line number and field", () => {
    const ok = "1,1.0,1.0,1.0,1735689600123,True,True\n";
    expect(malformed("trades", `${ok}2,1.0,1.0,1.0,1735689600123,True\n`)).toMatch(
      /test\.csv line 2: isBestMatch: missing/,
    );
    expect(malformed("trades", "1,1.0,1.0,1.0,1735689600123,True,True,extra\n")).toMatch(
      /line 1: isBestMatch: expected the end of the line/,
    );
    expect(malformed("trades", "1,1e5,1.0,1.0,1735689600123,True,True\n")).toMatch(
      /line 1: price: expected ','/,
    );
    expect(malformed("trades", "1,-1.0,1.0,1.0,1735689600123,True,True\n")).toMatch(
      /price: expected a decimal/,
    );
    expect(malformed("trades", "1,1.000000001,1.0,1.0,1,True,True\n")).toMatch(/price: expected a decimal/);
    expect(malformed("trades", "1,12345678901,1.0,1.0,1,True,True\n")).toMatch(/price: expected a decimal/);
    expect(malformed("trades", "01,1,1,1,1,True,True\n")).toMatch(
      /trade id: expected a non-negative integer/,
    );
    expect(malformed("trades", "1,1,1,1,1,yes,True\n")).toMatch(/isBuyerMaker: expected True or False/);
    expect(malformed("aggTrades", "1,1,1,x,2,1,True,True\n")).toMatch(
      /first trade id: expected a non-negative/,
    );
    expect(malformed("trades", "\n")).toMatch(/line 1: trade id/);
    expect(malformed("trades", "9007199254740992,1,1,1,1,True,True\n")).toMatch(/trade id/);
    // A line is only buffered across chunks up to MAX_LINE_BYTES.
    expect(() => parse("trades", `1,1,1,1,${"1".repeat(1100)}\n`, [10])).toThrow(
      /line 1: line longer than 1024 bytes/,
    );
  });

  test("klines: all twelve columns, both time units", () => {
    const k = allocKlineColumns(4);
    let n = 0;
    const p = new ArchiveCsvParser(
      { dataset: "klines", klines: k, flush: (c) => (n += c) },
      2,
      RECV,
      "k.csv",
    );
    p.push(
      enc.encode(
        "1735689540000,93500.00,93600.5,93400.01,93550.00000000,12.5,1735689599999,1168750.12,321,6.25,584375.06,0\n" +
          "1735689600000000,1,1,1,1,0,1735689659999999,0,0,0,0,0\n",
      ),
    );
    p.end();
    expect(n).toBe(2);
    expect([
      k.open_time_us[0],
      k.close_time_us[0],
      k.trades[0],
      k.open_time_us[1],
      k.close_time_us[1],
    ]).toEqual([
      1_735_689_540_000_000, 1_735_689_599_999_000, 321, 1_735_689_600_000_000, 1_735_689_659_999_999,
    ]);
    expect(
      [k.open[0], k.high[0], k.low[0], k.close[0], k.volume[0], k.quote_volume[0]].map((v) =>
        formatDecimal(v!),
      ),
    ).toEqual([
      "93500.00000000",
      "93600.50000000",
      "93400.01000000",
      "93550.00000000",
      "12.50000000",
      "1168750.12000000",
    ]);
    expect([k.first_id[0], k.last_id[0], k.closed[0], k.symbol_id[0]]).toEqual([-1, -1, 1, 2]);
  });
});

/** The simple reference: split on ',' and parse each field with model/decimal.ts. */
function reference(line: string): Omit<Got, "kind"> | null {
  const f = line.split(",");
  if (f.length !== 7) return null;
  const int = (s: string) => (/^(0|[1-9]\d*)$/.test(s) && Number(s) < 2 ** 53 ? Number(s) : null);
  const bool = (s: string) => (/^([Tt]rue|[Ff]alse)$/.test(s) ? s.toLowerCase() === "true" : null);
  const [id, price, qty, quote, time, bm, best] = [
    int(f[0]!),
    parseDecimal(f[1]!),
    parseDecimal(f[2]!),
    parseDecimal(f[3]!),
    int(f[4]!),
    bool(f[5]!),
    bool(f[6]!),
  ];
  if (
    id === null ||
    price === null ||
    qty === null ||
    quote === null ||
    time === null ||
    bm === null ||
    best === null
  )
    return null;
  const timeUs = archiveTimeToUs(time);
  if (timeUs >= 2 ** 53) return null;
  return {
    id,
    price: formatDecimal(price),
    qty: formatDecimal(qty),
    first: 0,
    last: 0,
    timeUs,
    buyerMaker: bm,
  };
}

const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(..."0123456789"), { minLength: min, maxLength: max }).map((a) => a.join(""));
const decimalText = fc.oneof(
  fc.tuple(digits(1, 11), fc.option(digits(0, 10))).map(([i, f]) => (f === null ? i : `${i}.${f}`)),
  fc.constantFrom("", ".5", "1.", "-1", "1e3", "0x10", " 1"),
);
const intText = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 54n }).map(String),
  fc.integer({ min: 1_500_000_000_000, max: 1_800_000_000_000 }).map(String),
  fc.integer({ min: 1_500_000_000_000_000, max: 1_800_000_000_000_000 }).map(String),
  digits(0, 3),
);
const boolText = fc.constantFrom("True", "False", "true", "false", "TRUE", "1", "");
const lineArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(intText, decimalText, decimalText, decimalText, intText, boolText, boolText)
      .map((f) => f.join(",")),
  },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 60 }).filter((s) => !s.includes("\n") && !s.includes("\r")),
  },
);

describe("property: the streaming parser agrees with the split-and-parseDecimal reference", () => {
  test("every line accepted or refused alike, accepted rows equal, for any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
        (lines, cuts) => {
          const expected = lines.map(reference);
          const firstBad = expected.indexOf(null);
          const text = `${lines.join("\n")}\n`;
          if (firstBad < 0) {
            expect(parse("trades", text, cuts)).toEqual(expected.map((r) => ({ ...r!, kind: Table.trades })));
          } else {
            expect(malformed("trades", text)).toContain(`line ${firstBad + 1}:`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
