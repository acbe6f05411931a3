/**
 * What a book at an instant needs from storage, in one DuckDB query (src/book/at.ts): the rows of
 * the checkpoint at `cpUs` and every delta with its event time in [cpUs, atUs], checkpoint first,
 * each in id order. Files listed and pinned in one synchronous step, as every cold read here.
 * Two queries through the row pages (one per table) cost twice DuckDB's fixed cost per query,
 * the bulk of a /v1/book?at= answer (native-bench/book-at.ts).
 */
import type { Duck } from "./duck.ts";
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

const CHECKPOINT = `SELECT 0 AS part, checkpoint_id AS id, side = 'ask' AS ask, price, quantity, update_id AS u,
  epoch_us(known_time_us) AS t, false AS snap, level_state AS st`;
const DELTAS = `SELECT 1 AS part, delta_id AS id, side = 'ask' AS ask, price, quantity, last_update_id AS u,
  epoch_us(event_time_us) AS t, is_snapshot AS snap, NULL AS st`;

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
    const cpPart = `${CHECKPOINT} ${FROM_FILES} WHERE checkpoint_time_us = $2`;
    const sql =
      deltas.length === 0
        ? `${cpPart} ORDER BY part, id`
        : `${cpPart} UNION ALL ${DELTAS} ${FROM_FILES.replace("$1", "$3")}
           WHERE event_time_us >= $2 AND event_time_us < $4 ORDER BY part, id`;
    const params =
      deltas.length === 0
        ? [{ files: cps.map((f) => f.path) }, { tsUs: cpUs }]
        : [
            { files: cps.map((f) => f.path) },
            { tsUs: cpUs },
            { files: deltas.map((f) => f.path) },
            { tsUs: atUs + 1 },
          ];
    const c = await duck.query(sql, params);
    const col = (n: string) => c.data[c.names.indexOf(n)]!;
    return {
      part: col("part") as number[],
      ask: col("ask") as boolean[],
      price: col("price") as bigint[],
      quantity: col("quantity") as bigint[],
      updateId: col("u") as number[],
      timeUs: col("t") as number[],
      isSnapshot: col("snap") as boolean[],
      state: col("st") as (string | null)[],
      length: c.length,
    };
  } finally {
    unpin?.();
  }
}
