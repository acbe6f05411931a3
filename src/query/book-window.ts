/**
 * What a book at an instant needs from storage (src/book/at.ts): the rows of the checkpoint at
 * `cpUs` and every delta with its event time in [cpUs, atUs], checkpoint first, each in id order.
 * Files listed and pinned in one synchronous step, as every cold read here. DuckDB's fixed cost
 * per query is the bulk of a /v1/book?at= answer (native-bench/book-at.ts): one statement per
 * table, run at once, not one after the other through the row pages.
 */
import type { Columns, Duck } from "./duck.ts";
import { FROM_FILES } from "./rows.ts";
import type { FileSource } from "./types.ts";

/** Column-major: per row its part (0 checkpoint, 1 delta), side, price and quantity (1e-8), update id, time µs, snapshot flag, level state. */
export interface BookWindow {
  readonly part: number[];
  readonly ask: boolean[];
  readonly price: bigint[];
  readonly quantity: bigint[];
  readonly updateId: number[];
  readonly timeUs: number[];
  readonly isSnapshot: boolean[];
  readonly state: (string | null)[];
  readonly length: number;
}

const CHECKPOINT_SQL = `SELECT side = 'ask' AS ask, price, quantity, update_id AS u, epoch_us(known_time_us) AS t,
  false AS snap, level_state AS st ${FROM_FILES} WHERE checkpoint_time_us = $2 ORDER BY checkpoint_id`;
const DELTAS_SQL = `SELECT side = 'ask' AS ask, price, quantity, last_update_id AS u, epoch_us(event_time_us) AS t,
  is_snapshot AS snap, NULL AS st ${FROM_FILES} WHERE event_time_us >= $2 AND event_time_us < $3 ORDER BY delta_id`;

/** null: no checkpoint file covers `cpUs` (the caller searches another way). */
export async function bookWindow(
  duck: Duck,
  source: FileSource,
  symbol: string,
  cpUs: number,
  atUs: number,
): Promise<BookWindow | null> {
  const cps = source.files({ table: "book_checkpoints", symbol, fromUs: cpUs, toUs: cpUs + 1 });
  const deltas = source.files({ table: "book_deltas", symbol, fromUs: cpUs, toUs: atUs + 1 });
  if (cps.length === 0) return null;
  const unpin = source.pin?.([...cps, ...deltas].map((f) => f.path));
  try {
    // Two statements on two connections at once: each part's fixed cost (opening its files,
    // decoding whole row groups) is paid in parallel, ~35 % less than one UNION ALL here.
    const [cp, d] = await Promise.all([
      duck.query(CHECKPOINT_SQL, [{ files: cps.map((f) => f.path) }, { tsUs: cpUs }]),
      deltas.length === 0
        ? undefined
        : duck.query(DELTAS_SQL, [{ files: deltas.map((f) => f.path) }, { tsUs: cpUs }, { tsUs: atUs + 1 }]),
    ]);
    return concat(cp, d);
  } finally {
    unpin?.();
  }
}

/** The checkpoint's rows, then the deltas', as one window. */
function concat(cp: Columns, d: Columns | undefined): BookWindow {
  const parts = d ? [cp, d] : [cp];
  const col = (n: string) => parts.flatMap((c) => c.data[c.names.indexOf(n)]!);
  return {
    part: parts.flatMap((c, i) => new Array<number>(c.length).fill(i)),
    ask: col("ask") as boolean[],
    price: col("price") as bigint[],
    quantity: col("quantity") as bigint[],
    updateId: col("u") as number[],
    timeUs: col("t") as number[],
    isSnapshot: col("snap") as boolean[],
    state: col("st") as (string | null)[],
    length: cp.length + (d?.length ?? 0),
  };
}
