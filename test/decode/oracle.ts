/**
 * The reference decoder the conformance tests compare against: JSON.parse (with source text
 * access for numbers, so `1.0` and `1e3` are seen as written) + model parseDecimal, following the
 * status rules documented in src/decode/binance/status.ts. Slow and allocating on purpose.
 * It cannot see duplicate keys or tell TRUNCATED from MALFORMED: for invalid JSON it says
 * INVALID_JSON and fixtures name the exact status.
 */
import { DecodeStatus as S } from "../../src/decode/binance/index.ts";
import { parseDecimal, type RowColumns, type SymbolTable, Table } from "../../src/model/index.ts";

export const INVALID_JSON = -1;
const MAX_EXACT = 2n ** 53n;

export interface Row {
  kind: number;
  symbol_id: number;
  id: number;
  first_id: number;
  last_id: number;
  trade_time_us: number;
  event_time_us: number;
  recv_time_us: number;
  dec0: bigint;
  dec1: bigint;
  dec2: bigint;
  dec3: bigint;
  flags: number;
}
export interface Expected {
  status: number;
  row?: Row;
}

/** A JSON number as written. */
class Num {
  constructor(readonly src: string) {}
}

export function readRow(out: RowColumns, slot: number): Row {
  return {
    kind: out.kind[slot]!,
    symbol_id: out.symbol_id[slot]!,
    id: out.id[slot]!,
    first_id: out.first_id[slot]!,
    last_id: out.last_id[slot]!,
    trade_time_us: out.trade_time_us[slot]!,
    event_time_us: out.event_time_us[slot]!,
    recv_time_us: out.recv_time_us[slot]!,
    dec0: out.dec0[slot]!,
    dec1: out.dec1[slot]!,
    dec2: out.dec2[slot]!,
    dec3: out.dec3[slot]!,
    flags: out.flags[slot]!,
  };
}

type Field = "id" | "time" | "dec" | "sym" | "bool" | "event";
const SPECS: Record<number, Record<string, [Field, keyof Row]>> = {
  [Table.trades]: {
    e: ["event", "kind"],
    E: ["time", "event_time_us"],
    s: ["sym", "symbol_id"],
    t: ["id", "id"],
    p: ["dec", "dec0"],
    q: ["dec", "dec1"],
    T: ["time", "trade_time_us"],
    m: ["bool", "flags"],
  },
  [Table.agg_trades]: {
    e: ["event", "kind"],
    E: ["time", "event_time_us"],
    s: ["sym", "symbol_id"],
    a: ["id", "id"],
    p: ["dec", "dec0"],
    q: ["dec", "dec1"],
    f: ["id", "first_id"],
    l: ["id", "last_id"],
    T: ["time", "trade_time_us"],
    m: ["bool", "flags"],
  },
  [Table.quotes]: {
    u: ["id", "id"],
    s: ["sym", "symbol_id"],
    b: ["dec", "dec0"],
    B: ["dec", "dec1"],
    a: ["dec", "dec2"],
    A: ["dec", "dec3"],
  },
};
const EVENT_NAME: Record<number, string> = {
  [Table.trades]: "trade",
  [Table.agg_trades]: "aggTrade",
  [Table.quotes]: "bookTicker",
};

function kindOfEvent(e: string): number {
  if (e === "trade") return Table.trades;
  if (e === "aggTrade") return Table.agg_trades;
  if (e === "bookTicker") return Table.quotes;
  return e === "serverShutdown" ? -S.SERVER_SHUTDOWN : -S.UNKNOWN_EVENT;
}

function kindOfStream(s: string): number {
  if (s === "!serverShutdown") return -S.SERVER_SHUTDOWN;
  const at = s.lastIndexOf("@");
  const suffix = s.slice(at);
  if (at > 0 && suffix === "@trade") return Table.trades;
  if (at > 0 && suffix === "@aggTrade") return Table.agg_trades;
  if (at > 0 && suffix === "@bookTicker") return Table.quotes;
  return -S.NOT_CONFIGURED;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Num);
}

function payload(
  kind: number,
  data: Record<string, unknown>,
  table: SymbolTable,
  recv: number,
  mult: bigint,
): Expected {
  const spec = SPECS[kind]!;
  const row: Row = {
    kind,
    symbol_id: 0,
    id: 0,
    first_id: 0,
    last_id: 0,
    trade_time_us: 0,
    event_time_us: kind === Table.quotes ? recv : 0,
    recv_time_us: recv,
    dec0: 0n,
    dec1: 0n,
    dec2: 0n,
    dec3: 0n,
    flags: 0,
  };
  const seen = new Set<string>();
  for (const [k, v] of Object.entries(data)) {
    const sp = kind === Table.quotes && k === "e" ? (["event", "kind"] as const) : spec[k];
    if (!sp) continue;
    seen.add(k);
    const [type, col] = sp;
    if (type === "event") {
      if (typeof v !== "string") return { status: S.BAD_TYPE };
      if (v !== EVENT_NAME[kind]) return { status: S.UNKNOWN_EVENT };
    } else if (type === "sym") {
      if (typeof v !== "string") return { status: S.BAD_TYPE };
      const id = table.id(v);
      if (id === undefined) return { status: S.NOT_CONFIGURED };
      row.symbol_id = id;
    } else if (type === "bool") {
      if (typeof v !== "boolean") return { status: S.BAD_TYPE };
      row.flags = v ? 1 : 0;
    } else if (type === "dec") {
      if (typeof v !== "string") return { status: S.BAD_TYPE };
      const d = parseDecimal(v);
      if (d === null) return { status: S.BAD_DECIMAL };
      (row as unknown as Record<string, bigint>)[col] = d;
    } else {
      if (!(v instanceof Num)) return { status: S.BAD_TYPE };
      const over = type === "id" ? S.ID_OUT_OF_RANGE : S.BAD_NUMBER;
      const m = /^(-?)(0|[1-9]\d*)$/.exec(v.src);
      if (!m) return { status: S.BAD_NUMBER };
      if (m[1] === "-") return { status: over };
      const n = BigInt(m[2]!) * (type === "time" ? mult : 1n);
      if (n >= MAX_EXACT) return { status: over };
      (row as unknown as Record<string, number>)[col] = Number(n);
    }
  }
  const required = Object.keys(spec);
  if (!required.every((k) => seen.has(k))) return { status: S.MISSING_FIELD };
  return { status: S.OK, row };
}

/** What decodeFrame must return (and write) for `frame`. */
export function oracle(frame: string, table: SymbolTable, recvTimeUs: number, timeUnitUs: boolean): Expected {
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
  if ("stream" in top) {
    const name = top.stream;
    if (typeof name !== "string") return { status: S.BAD_TYPE };
    const kind = kindOfStream(name);
    if (kind < 0) return { status: -kind };
    if (!("data" in top)) return { status: S.MISSING_FIELD };
    if (!isObject(top.data)) return { status: S.BAD_TYPE };
    return payload(kind, top.data, table, recvTimeUs, mult);
  }
  if ("e" in top) {
    if (typeof top.e !== "string") return { status: S.BAD_TYPE };
    const kind = kindOfEvent(top.e);
    if (kind < 0) return { status: -kind };
    return payload(kind, top, table, recvTimeUs, mult);
  }
  if ("result" in top || "code" in top) return { status: S.CONTROL };
  if ("u" in top) return payload(Table.quotes, top, table, recvTimeUs, mult);
  return { status: S.UNKNOWN_EVENT };
}
