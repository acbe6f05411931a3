/**
 * `/v1/book/snapshots` in the tabular formats (CSV, NDJSON, Parquet, MessagePack): one row per
 * level of each snapshot, in the long layout DuckDB and pandas pivot naturally (`side`, `level`
 * from 0 at the best price). A snapshot with no levels (not synced, not stored yet) is one row with
 * its state and null level columns, so every instant asked for is in the answer.
 */
import { parseDecimal } from "../model/decimal.ts";
import type { ColumnDef } from "../model/tables.ts";
import type { Frame } from "../query/types.ts";
import type { BookLevelOut, BookSeriesAnswer } from "./api.ts";

export const SERIES_COLUMNS: readonly ColumnDef[] = [
  { name: "time_us", type: "timestamp_us" },
  { name: "state", type: "string" },
  { name: "update_id", type: "int64" },
  { name: "side", type: "string" },
  { name: "level", type: "int64" },
  { name: "price", type: "decimal" },
  { name: "quantity", type: "decimal" },
  { name: "level_state", type: "string" },
  { name: "known_time_us", type: "timestamp_us" },
];

export function seriesFrame(a: BookSeriesAnswer): Frame {
  const f: Frame = { columns: SERIES_COLUMNS, data: SERIES_COLUMNS.map(() => []), length: 0 };
  const row = (...cells: Frame["data"][number]) => {
    for (let i = 0; i < cells.length; i++) f.data[i]!.push(cells[i]!);
    f.length++;
  };
  const dec = (text: string) => parseDecimal(text) ?? null; // our own 8-place text: always parses
  for (const s of a.snapshots) {
    const levels: [string, BookLevelOut[]][] = [
      ["bid", s.bids],
      ["ask", s.asks],
    ];
    if (s.bids.length + s.asks.length === 0) {
      row(s.time_us, s.state, s.update_id, null, null, null, null, null, null);
      continue;
    }
    for (const [side, ls] of levels)
      ls.forEach((l, i) => {
        row(
          s.time_us,
          s.state,
          s.update_id,
          side,
          i,
          dec(l.price),
          dec(l.quantity),
          l.state,
          l.known_time_us,
        );
      });
  }
  return f;
}
