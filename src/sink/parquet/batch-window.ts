/**
 * A RowColumns whose slots 0..len-1 are a batch's rows at..at+len-1: a parser that fills
 * RowColumns (the archive CSV reader) writes its rows straight into the batch, with no copy per
 * row (`appendRow` was 10–20 % of a backfill thread's time). Slots the table does not store
 * (kind, symbol_id, the decimals and id-range columns it leaves out) point into scratch arrays,
 * so the parser may write them as it does any RowColumns.
 *
 * The caller owns the rest of appendRow's contract: the rows must belong to the batch's table,
 * symbol and day, and carry only flag bits the table keeps; rows that do not are moved out with
 * `copyOutOfWindow` before `b.rows` is advanced past them.
 */
import { ROW_ARRAYS, type RowColumns } from "../../model/index.ts";
import type { TableBatch } from "./batch.ts";

type WindowSlot = (typeof ROW_ARRAYS)[number];

const DECS = ["dec0", "dec1", "dec2", "dec3"] as const;

/**
 * The window [at, at+len) of `b` (len ≤ scratch.capacity, at+len ≤ b.capacity). `scratch` (any
 * RowColumns, e.g. allocRowColumns of the longest window) holds the slots the table leaves out.
 */
export function batchWindow(b: TableBatch, at: number, len: number, scratch: RowColumns): RowColumns {
  if (len < 1 || len > scratch.capacity || at < 0 || at + len > b.capacity)
    throw new RangeError(
      `window [${at}, ${at + len}) does not fit batch ${b.capacity} / scratch ${scratch.capacity}`,
    );
  const c = b.columns;
  const f64 = (k: "id" | "first_id" | "last_id" | "trade_time_us" | "event_time_us" | "recv_time_us") =>
    c[k].length > 0 ? c[k].subarray(at, at + len) : scratch[k].subarray(0, len);
  const words = DECS.map((k, i) =>
    c[k].length > 0 ? b.words[i]!.subarray(2 * at, 2 * (at + len)) : scratch[`${k}w`].subarray(0, 2 * len),
  );
  const decs = DECS.map((k) => (c[k].length > 0 ? c[k].subarray(at, at + len) : scratch[k].subarray(0, len)));
  return {
    capacity: len,
    kind: scratch.kind.subarray(0, len),
    symbol_id: scratch.symbol_id.subarray(0, len),
    id: f64("id"),
    first_id: f64("first_id"),
    last_id: f64("last_id"),
    trade_time_us: f64("trade_time_us"),
    event_time_us: f64("event_time_us"),
    recv_time_us: f64("recv_time_us"),
    dec0: decs[0]!,
    dec1: decs[1]!,
    dec2: decs[2]!,
    dec3: decs[3]!,
    dec0w: words[0]!,
    dec1w: words[1]!,
    dec2w: words[2]!,
    dec3w: words[3]!,
    flags: c.flags.length > 0 ? c.flags.subarray(at, at + len) : scratch.flags.subarray(0, len),
  };
}

/**
 * Copy window slots from..from+count-1 into `out` slots 0..count-1 (every slot: the window's
 * scratch ones too), so they can be appended elsewhere once the batch's own rows end before them.
 */
export function copyOutOfWindow(w: RowColumns, from: number, count: number, out: RowColumns): void {
  for (const k of ROW_ARRAYS as readonly WindowSlot[]) {
    const src = w[k] as Float64Array;
    (out[k] as Float64Array).set(src.subarray(from, from + count));
  }
}
