/**
 * The reference for DepthDecoder: JSON.parse (numbers kept as written) + model parseDecimal,
 * following the rules in src/decode/binance/depth.ts's header and status.ts's precedence. Slow
 * and allocating on purpose. Like oracle.ts it cannot see duplicate keys or tell TRUNCATED from
 * MALFORMED: invalid JSON is INVALID_JSON and the tests name the exact status.
 */
import { DecodeStatus as S } from "../../src/decode/binance/index.ts";
import { parseDecimal, type SymbolTable } from "../../src/model/index.ts";
import { INVALID_JSON } from "./oracle.ts";

export interface DepthExpected {
  status: number;
  kind?: number;
  symbolId?: number;
  firstId?: number;
  lastId?: number;
  eventTimeUs?: number;
  bids?: [bigint, bigint][];
  asks?: [bigint, bigint][];
}

const MAX_EXACT = 2n ** 53n;
const DIFF = 1;
const PARTIAL = 2;
const SNAPSHOT = 3;

class Num {
  constructor(readonly src: string) {}
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Num);
}

function int(v: unknown, mult: bigint, over: number): number | { status: number } {
  if (!(v instanceof Num)) return { status: S.BAD_TYPE };
  const m = /^(-?)(0|[1-9]\d*)$/.exec(v.src);
  if (!m) return { status: S.BAD_NUMBER };
  if (m[1] === "-") return { status: over };
  const n = BigInt(m[2]!) * mult;
  if (n >= MAX_EXACT) return { status: over };
  return Number(n);
}

function levels(v: unknown, max: number): [bigint, bigint][] | { status: number } {
  if (!Array.isArray(v)) return { status: S.BAD_TYPE };
  const out: [bigint, bigint][] = [];
  for (let i = 0; i < v.length; i++) {
    if (!Array.isArray(v[i])) return { status: S.BAD_TYPE };
    if (i >= max) return { status: S.TOO_LARGE };
    const l = v[i] as unknown[];
    if (l.length === 0) return { status: S.BAD_TYPE };
    const pair: bigint[] = [];
    for (let k = 0; k < 2; k++) {
      if (k === 1 && l.length < 2) return { status: S.BAD_TYPE };
      const t = l[k];
      if (typeof t !== "string") return { status: S.BAD_TYPE };
      const d = parseDecimal(t);
      if (d === null) return { status: S.BAD_DECIMAL };
      pair.push(d);
    }
    if (l.length > 2) return { status: S.BAD_TYPE };
    out.push([pair[0]!, pair[1]!]);
  }
  return out;
}

function payload(o: Record<string, unknown>, table: SymbolTable, mult: bigint, max: number): DepthExpected {
  const e: DepthExpected = { status: S.OK };
  const seen = new Set<string>();
  for (const [k, v] of Object.entries(o)) {
    const bidsKey = k === "b" || k === "bids";
    const asksKey = k === "a" || k === "asks";
    if (bidsKey || asksKey) {
      const slot = bidsKey ? "bids" : "asks";
      if (seen.has(slot)) return { status: S.MALFORMED };
      const l = levels(v, max);
      if (!Array.isArray(l)) return l;
      e[slot] = l;
      seen.add(slot);
    } else if (k === "e") {
      if (typeof v !== "string") return { status: S.BAD_TYPE };
      if (v !== "depthUpdate") return { status: S.UNKNOWN_EVENT };
      seen.add(k);
    } else if (k === "s") {
      if (typeof v !== "string") return { status: S.BAD_TYPE };
      const id = table.id(v);
      if (id === undefined) return { status: S.NOT_CONFIGURED };
      e.symbolId = id;
      seen.add(k);
    } else if (k === "E") {
      const t = int(v, mult, S.BAD_NUMBER);
      if (typeof t !== "number") return t;
      e.eventTimeUs = t;
      seen.add(k);
    } else if (k === "U" || k === "u" || k === "lastUpdateId") {
      const t = int(v, 1n, S.ID_OUT_OF_RANGE);
      if (typeof t !== "number") return t;
      if (k === "U") e.firstId = t;
      else if (k === "u") e.lastId = t;
      else e.firstId = e.lastId = t;
      seen.add(k);
    }
  }
  const diffKeys = ["e", "E", "s", "U", "u"].filter((k) => seen.has(k)).length;
  if (diffKeys > 0 && seen.has("lastUpdateId")) return { status: S.MALFORMED };
  if (diffKeys > 0) {
    if (diffKeys < 5 || !seen.has("bids") || !seen.has("asks")) return { status: S.MISSING_FIELD };
    if (e.firstId! > e.lastId!) return { status: S.MALFORMED };
    e.kind = DIFF;
    return e;
  }
  if (seen.size === 0) return { status: S.UNKNOWN_EVENT };
  if (seen.size < 3) return { status: S.MISSING_FIELD };
  e.kind = PARTIAL;
  return e;
}

/** Stream kind and symbol id from a combined stream name, or a status. */
function streamOf(name: string, table: SymbolTable): { kind: number; sym: number } | { status: number } {
  const m = /^([a-z0-9]{1,20})@depth(5|10|20)?(@100ms|@1000ms)?$/.exec(name);
  if (!m) return { status: S.NOT_CONFIGURED };
  const sym = table.id(m[1]!.toUpperCase());
  if (sym === undefined) return { status: S.NOT_CONFIGURED };
  return { kind: m[2] === undefined ? DIFF : PARTIAL, sym };
}

/**
 * What DepthDecoder must return for `frame`: `decode` when `rest` is false, `decodeSnapshot`
 * (with `rawSym` as its symbol) when true.
 */
export function depthOracle(
  frame: string,
  table: SymbolTable,
  timeUnitUs: boolean,
  rawSym: number,
  rest: boolean,
  maxLevels: number,
): DepthExpected {
  let top: unknown;
  try {
    top = JSON.parse(frame, (_k, v, ctx?: { source?: string }) =>
      typeof v === "number" && ctx?.source !== undefined ? new Num(ctx.source) : v,
    );
  } catch {
    return { status: INVALID_JSON };
  }
  if (!isObject(top)) return { status: S.MALFORMED };
  const mult = timeUnitUs ? 1n : 1000n;
  if (!rest && ("stream" in top || "data" in top)) {
    let stream: { kind: number; sym: number } | undefined;
    let data: DepthExpected | undefined;
    for (const [k, v] of Object.entries(top)) {
      if (k === "stream") {
        if (typeof v !== "string") return { status: S.BAD_TYPE };
        const s = streamOf(v, table);
        if ("status" in s) return s;
        stream = s;
      } else if (k === "data") {
        if (!isObject(v)) return { status: S.BAD_TYPE };
        data = payload(v, table, mult, maxLevels);
        if (data.status !== S.OK) return data;
      }
    }
    if (!stream || !data) return { status: S.MISSING_FIELD };
    if (data.kind !== stream.kind) return { status: S.MALFORMED };
    if (data.kind === DIFF && data.symbolId !== stream.sym) return { status: S.MALFORMED };
    data.symbolId = stream.sym;
    return data;
  }
  const p = payload(top, table, mult, maxLevels);
  if (p.status !== S.OK) return p;
  if (rest) {
    if (p.kind === DIFF) return { status: S.UNKNOWN_EVENT };
    p.kind = SNAPSHOT;
  }
  if (p.kind !== DIFF) {
    if (rawSym < 0) return { status: S.NOT_CONFIGURED };
    p.symbolId = rawSym;
  }
  return p;
}
