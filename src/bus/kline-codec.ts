/**
 * A closed 1m kline on the bus (docs/SCALING.md "Completeness in the roles"): a recorder publishes
 * it on `k2.klines.<shard>.<SYMBOL>` (subjects.ts) and the writer of the symbol's shard judges the
 * minute against the trades it stored. Not a stored table, so not a row of model/row.ts: one
 * fixed-size record of model/kline.ts's columns. The symbol travels in the subject, as for rows.
 *
 * | offset | size | field                                                              |
 * |--------|------|--------------------------------------------------------------------|
 * | 0      | 1    | format version (KLINE_FORMAT_VERSION)                              |
 * | 1      | 1    | KLINE_BODY_TAG (no row table has this id: a row body is refused)   |
 * | 2      | 6    | 0 (reserved)                                                       |
 * | 8      | 48   | f64: event, open and close time (µs), first and last id, trades     |
 * | 56     | 64   | i64: open, high, low, close, volume, quote, taker buy volume/quote  |
 * | 120    | 1    | closed (1 = final)                                                 |
 * All little-endian.
 */
import type { KlineColumns } from "../model/kline.ts";
import { BusError } from "./errors.ts";

export const KLINE_FORMAT_VERSION = 1;
export const KLINE_BODY_TAG = 0xfe;
export const KLINE_BODY_BYTES = 121;

const F64 = ["event_time_us", "open_time_us", "close_time_us", "first_id", "last_id", "trades"] as const;
const I64 = [
  "open",
  "high",
  "low",
  "close",
  "volume",
  "quote_volume",
  "taker_buy_volume",
  "taker_buy_quote_volume",
] as const;
const I64_AT = 8 + 8 * F64.length;
const CLOSED_AT = I64_AT + 8 * I64.length;

/** Kline `slot` of `k` as a message body. */
export function encodeKline(k: KlineColumns, slot: number): Uint8Array {
  if (!Number.isInteger(slot) || slot < 0 || slot >= k.capacity)
    throw new RangeError(`kline slot ${slot} is not inside columns of ${k.capacity}`);
  const out = new Uint8Array(KLINE_BODY_BYTES);
  const v = new DataView(out.buffer);
  out[0] = KLINE_FORMAT_VERSION;
  out[1] = KLINE_BODY_TAG;
  for (const [i, c] of F64.entries()) v.setFloat64(8 + 8 * i, k[c][slot]!, true);
  for (const [i, c] of I64.entries()) v.setBigInt64(I64_AT + 8 * i, k[c][slot]!, true);
  out[CLOSED_AT] = k.closed[slot]!;
  return out;
}

/** Decode a body encodeKline wrote into slot `slot` of `out`; a BusError ("malformed") otherwise. */
export function decodeKline(body: Uint8Array, out: KlineColumns, slot: number, symbolId: number): void {
  const bad = (what: string) => new BusError("malformed", `bus kline message: ${what}`);
  if (body.length !== KLINE_BODY_BYTES) throw bad(`${body.length} bytes, a kline takes ${KLINE_BODY_BYTES}`);
  if (body[0] !== KLINE_FORMAT_VERSION)
    throw bad(`format version ${body[0]}, this build reads ${KLINE_FORMAT_VERSION}`);
  if (body[1] !== KLINE_BODY_TAG) throw bad(`tag ${body[1]}, a kline has ${KLINE_BODY_TAG}`);
  if (body[CLOSED_AT]! > 1) throw bad(`closed flag ${body[CLOSED_AT]}, expected 0 or 1`);
  const v = new DataView(body.buffer, body.byteOffset, body.length);
  for (const [i, c] of F64.entries()) out[c][slot] = v.getFloat64(8 + 8 * i, true);
  for (const [i, c] of I64.entries()) out[c][slot] = v.getBigInt64(I64_AT + 8 * i, true);
  out.closed[slot] = body[CLOSED_AT]!;
  out.symbol_id[slot] = symbolId;
}
