/**
 * DepthDecoder against the oracle (JSON.parse + exact decimals) on generated diff, partial-depth
 * and REST snapshot frames: any key order and whitespace, raw or combined in either wrapper order,
 * unknown keys, JSON escapes, empty sides, "0" quantities, huge level counts, and one fault per
 * faulty frame (bad decimal, wrong level shape, bad id or time, U > u, wrong event, unknown or
 * disagreeing symbol, wrong stream, missing key, truncation). String and bytes forms.
 */
import { describe, expect, test } from "bun:test";
import {
  DEPTH_DIFF,
  DEPTH_SNAPSHOT,
  DepthDecoder,
  DepthFrame,
  type DepthSide,
  describeDepthReject,
  REJECT_ASKS,
  DecodeStatus as S,
  SymbolLookup,
  statusName,
} from "../../src/decode/binance/index.ts";
import { SymbolTable } from "../../src/model/index.ts";
import { depthOracle } from "./depth-oracle.ts";
import { decimalText, escapeOne, makeSymbols, Rng, render, WS } from "./gen.ts";
import { INVALID_JSON } from "./oracle.ts";

const SYMBOLS = makeSymbols(32, 5);
const table = new SymbolTable(SYMBOLS);
const symbols = new SymbolLookup(table);
const decoder = new DepthDecoder(symbols);
const enc = new TextEncoder();
/** A small per-side limit so "more levels than allowed" is cheap to generate. */
const MAX = 300;

/** A side as text (one toEqual on a string is far cheaper than on thousands of BigInt pairs). */
function sideOf(s: DepthSide): string {
  const out: string[] = [];
  for (let i = 0; i < s.n; i++) out.push(`${s.price(i)}:${s.quantity(i)}`);
  return out.join(" ");
}
const textOf = (l: [bigint, bigint][]) => l.map(([p, q]) => `${p}:${q}`).join(" ");

type Fault =
  | "none"
  | "badDecimal"
  | "shortLevel"
  | "longLevel"
  | "levelNotArray"
  | "numberQty"
  | "badId"
  | "badTime"
  | "UgtU"
  | "event"
  | "unknownSymbol"
  | "streamSymbol"
  | "streamKind"
  | "missing"
  | "truncate";
const FAULTS: Fault[] = [
  "badDecimal",
  "badDecimal",
  "badDecimal",
  "shortLevel",
  "longLevel",
  "levelNotArray",
  "numberQty",
  "badId",
  "badTime",
  "UgtU",
  "event",
  "unknownSymbol",
  "streamSymbol",
  "streamKind",
  "missing",
  "truncate",
];

function levelCount(rng: Rng): number {
  const r = rng.int(100);
  if (r < 12) return 0;
  if (r < 85) return 1 + rng.int(20);
  if (r < 99) return 100 + rng.int(260); // some past MAX: TOO_LARGE
  return 1000 + rng.int(4000);
}

function levelsText(rng: Rng, n: number, fault: Fault, hit: number, w: () => string): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    // Now and then a valid form Binance does not send (leading zeros, 10 integer digits): the generic path's.
    const px = JSON.stringify(
      rng.chance(0.03) ? rng.pick(["007.5", "9999999999.99999999", "1.100000000"]) : decimalText(rng).text,
    );
    const qty = JSON.stringify(
      rng.chance(0.2) ? rng.pick(["0", "0.00000000", "0.0"]) : decimalText(rng, 9).text,
    );
    if (i === hit && fault === "badDecimal") {
      const bad = rng.pick([
        '"-1"',
        '"1e3"',
        '"."',
        '"1."',
        '".5"',
        '"1.123456789"',
        '"12345678901"',
        '"1.5 "',
      ]);
      parts.push(rng.chance(0.5) ? `[${bad},${w()}${qty}]` : `[${px},${w()}${bad}]`);
    } else if (i === hit && fault === "shortLevel") parts.push(`[${px}]`);
    else if (i === hit && fault === "longLevel") parts.push(`[${px},${qty},${w()}[]]`);
    else if (i === hit && fault === "levelNotArray") parts.push(rng.pick(["{}", "null", px]));
    else if (i === hit && fault === "numberQty") parts.push(`[${px},1.5]`);
    else parts.push(`[${w()}${px}${w()},${w()}${qty}${w()}]`);
  }
  return `[${w()}${parts.join(`,${w()}`)}${w()}]`;
}

function makeFrame(rng: Rng): { frame: string; rest: boolean; rawSym: number; timeUnitUs: boolean } {
  const kind = rng.pick(["diff", "partial", "snapshot"] as const);
  const rest = kind === "snapshot";
  const fault: Fault = rng.chance(0.3) ? rng.pick(FAULTS) : "none";
  const w = rng.chance(0.6) ? () => "" : () => rng.pick(WS);
  const esc = (s: string) => (rng.chance(0.05) ? escapeOne(rng, s) : s);
  const symId = rng.int(SYMBOLS.length);
  const sym = SYMBOLS[symId]!;
  const nb = levelCount(rng);
  const na = levelCount(rng);
  const onBids = rng.chance(0.5);
  const hit = rng.int(Math.max(1, onBids ? nb : na));
  const bids = levelsText(rng, nb, onBids ? fault : "none", hit, w);
  const asks = levelsText(rng, na, onBids ? "none" : fault, hit, w);
  const first = rng.int(2 ** 40);
  const last = first + rng.int(50);
  const fields: [string, string][] = [];
  if (kind === "diff") {
    fields.push(["e", esc(JSON.stringify(fault === "event" ? "depthUpdat" : "depthUpdate"))]);
    fields.push([
      "E",
      fault === "badTime" ? rng.pick(["1.5", "-1", '"1"', "1e3"]) : String(1_700_000_000_000 + rng.int(1e9)),
    ]);
    fields.push(["s", esc(JSON.stringify(fault === "unknownSymbol" ? "NOPEUSDT" : sym))]);
    fields.push([
      "U",
      fault === "badId" ? rng.pick(["-5", "9007199254740992", "2.0", '"7"']) : String(first),
    ]);
    fields.push(["u", fault === "UgtU" ? String(first - 1 - rng.int(3)) : String(last)]);
    fields.push([rng.chance(0.9) ? "b" : "bids", bids]);
    fields.push([rng.chance(0.9) ? "a" : "asks", asks]);
  } else {
    fields.push([
      "lastUpdateId",
      fault === "badId" ? rng.pick(["-5", "9007199254740993", "1e2"]) : String(last),
    ]);
    fields.push(["bids", bids]);
    fields.push(["asks", asks]);
  }
  if (fault === "missing") fields.splice(rng.int(fields.length), 1);
  if (rng.chance(0.2)) fields.splice(rng.int(fields.length + 1), 0, ["x", '{"k":[1,"2",{"b":null}]}']);
  if (rng.chance(0.1)) fields.splice(rng.int(fields.length + 1), 0, ["lastUpdateIdx", "3"]);
  // Any key order, one time in three.
  if (rng.chance(0.33)) fields.sort(() => (rng.chance(0.5) ? 1 : -1));
  const combined = !rest && rng.chance(0.6);
  let streamSym = sym.toLowerCase();
  if (fault === "streamSymbol") streamSym = SYMBOLS[(symId + 1) % SYMBOLS.length]!.toLowerCase();
  const speed = rng.pick(["", "@100ms", "@1000ms"]);
  let suffix = kind === "diff" ? `@depth${speed}` : `@depth${rng.pick(["5", "10", "20"])}${speed}`;
  if (fault === "streamKind")
    suffix = kind === "diff" ? "@depth20" : rng.pick(["@depth", "@trade", "@depth15"]);
  let frame = render(fields, {
    ws: w,
    combined: combined ? { stream: `${streamSym}${suffix}`, dataFirst: rng.chance(0.3) } : null,
    escape: esc,
  });
  if (fault === "truncate") frame = frame.slice(0, 1 + rng.int(frame.length - 1));
  const rawSym = kind === "diff" || rng.chance(0.95) ? symId : -1;
  return { frame, rest, rawSym, timeUnitUs: rng.chance(0.2) };
}

function check(frame: string, rest: boolean, rawSym: number, timeUnitUs: boolean, d: DepthDecoder): number {
  const want = depthOracle(frame, table, timeUnitUs, rawSym, rest, MAX);
  const out = new DepthFrame(4, MAX);
  for (const f of [frame, enc.encode(frame)]) {
    const got = rest ? d.decodeSnapshot(f, rawSym, out, 42) : d.decode(f, out, 42, timeUnitUs, rawSym);
    if (want.status === INVALID_JSON) {
      expect([statusName(S.TRUNCATED), statusName(S.MALFORMED)]).toContain(statusName(got));
      continue;
    }
    expect({ frame: frame.slice(0, 300), status: statusName(got) }).toEqual({
      frame: frame.slice(0, 300),
      status: statusName(want.status),
    });
    if (got !== S.OK) {
      expect(describeDepthReject(got, out)).toContain(statusName(got));
      continue;
    }
    expect(out.kind).toBe(want.kind!);
    expect(out.symbolId).toBe(want.symbolId!);
    expect(out.firstId).toBe(want.firstId!);
    expect(out.lastId).toBe(want.lastId!);
    expect(out.eventTimeUs).toBe(out.kind === DEPTH_DIFF ? want.eventTimeUs! : 42);
    expect(sideOf(out.bids)).toBe(textOf(want.bids!));
    expect(sideOf(out.asks)).toBe(textOf(want.asks!));
  }
  return want.status;
}

describe("DepthDecoder vs the JSON.parse oracle", () => {
  test("800 generated frames: same status, same ids, same exact levels", () => {
    const rng = new Rng(20261203);
    const d = new DepthDecoder(symbols);
    const seen = new Set<number>();
    for (let i = 0; i < 800; i++) {
      const { frame, rest, rawSym, timeUnitUs } = makeFrame(rng);
      seen.add(check(frame, rest, rawSym, timeUnitUs, d));
    }
    // The generator reaches every outcome it is meant to (so the comparison above is not vacuous).
    for (const s of [
      S.OK,
      S.BAD_DECIMAL,
      S.BAD_TYPE,
      S.BAD_NUMBER,
      S.ID_OUT_OF_RANGE,
      S.MALFORMED,
      S.UNKNOWN_EVENT,
      S.NOT_CONFIGURED,
      S.MISSING_FIELD,
      S.TOO_LARGE,
      INVALID_JSON,
    ])
      expect(seen).toContain(s);
  }, 30_000);
});

describe("DepthDecoder edge cases", () => {
  const sym = SYMBOLS[0]!;
  test("a frame with more levels than a side holds grows it once; later frames reuse it", () => {
    const out = new DepthFrame(2);
    const levels = (n: number) =>
      `[${Array.from({ length: n }, (_, i) => `["${100 + i}.5","0.001"]`).join(",")}]`;
    const f = (n: number) =>
      `{"e":"depthUpdate","E":1,"s":"${sym}","U":5,"u":6,"b":${levels(n)},"a":${levels(1)}}`;
    expect(decoder.decode(f(1), out, 0, false)).toBe(S.OK);
    expect(out.grows).toBe(0);
    expect(decoder.decode(f(9), out, 0, false)).toBe(S.OK);
    expect(out.bids.n).toBe(9);
    expect(out.bids.price(8)).toBe(10_850_000_000n);
    const grown = out.grows;
    expect(grown).toBeGreaterThan(0);
    expect(out.bids.capacity).toBeGreaterThanOrEqual(9);
    expect(decoder.decode(f(9), out, 0, false)).toBe(S.OK);
    expect(out.grows).toBe(grown);
  });

  test("a 5,000-level REST snapshot per side decodes exactly", () => {
    const lv = (base: number) =>
      `[${Array.from({ length: 5000 }, (_, i) => `["${base + i}.00000001","${i}.12345678"]`).join(",")}]`;
    const body = `{"lastUpdateId":1027024,"bids":${lv(1)},"asks":${lv(90000)}}`;
    expect(body.length).toBeGreaterThan(65_536); // past the trade decoders' frame limit
    const out = new DepthFrame();
    expect(decoder.decodeSnapshot(body, 3, out, 7)).toBe(S.OK);
    expect(out.kind).toBe(DEPTH_SNAPSHOT);
    expect(out.symbolId).toBe(3);
    expect(out.lastId).toBe(1027024);
    expect(out.asks.n).toBe(5000);
    expect(out.asks.price(4999)).toBe(9_499_900_000_001n);
    expect(out.asks.quantity(4999)).toBe(499_912_345_678n);
  });

  test("a refusal names the side and level at fault in one sentence", () => {
    const out = new DepthFrame();
    const f = `{"lastUpdateId":1,"bids":[],"asks":[["1","2"],["3","0.123456789"]]}`;
    const s = decoder.decode(f, out, 0, false, 0);
    expect(s).toBe(S.BAD_DECIMAL);
    expect(out.rejectSide).toBe(REJECT_ASKS);
    expect(describeDepthReject(s, out)).toBe(
      "depth frame refused as bad_decimal: a price or quantity is not a plain non-negative DECIMAL(18,8) string (at asks level 1).",
    );
  });

  test("a raw partial-depth frame without a caller-given symbol is NOT_CONFIGURED, not a guess", () => {
    const out = new DepthFrame();
    expect(decoder.decode(`{"lastUpdateId":1,"bids":[],"asks":[]}`, out, 0, false)).toBe(S.NOT_CONFIGURED);
  });

  test("garbage never throws", () => {
    const out = new DepthFrame();
    for (const g of ["", "[", "{", '{"b":[[', "null", "\u0000", '{"stream":1}', '{"data":{}}'])
      expect(() => decoder.decode(g, out, 0, false)).not.toThrow();
    expect(decoder.decode('{"data":{}}', out, 0, false)).toBe(S.UNKNOWN_EVENT);
  });
});
