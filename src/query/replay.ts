/**
 * Replay: rows of one table and symbol in id (= time) order, paged through the same merged
 * hot + cold query as /v1/trades, either as fast as the consumer pulls or paced at recorded
 * speed × `speed`. It is a pull-driven async generator: nothing is read ahead of the consumer
 * beyond one page, which is what gives the HTTP stream its backpressure.
 */
import type { TableName } from "../model/tables.ts";
import type { QueryEngine } from "./engine.ts";
import { emptyFrame, type Frame, TIME_COLUMN } from "./types.ts";

export interface ReplayQuery {
  readonly table: TableName;
  readonly symbol: string;
  readonly fromUs?: number;
  readonly toUs?: number;
  /** 0 = as fast as the client reads; otherwise recorded speed × speed. */
  readonly speed: number;
  /** Rows per page read from storage. */
  readonly pageRows: number;
}

/** Longest single sleep, so a cancelled stream is noticed quickly. */
const SLEEP_SLICE_MS = 200;

export async function* replay(
  engine: QueryEngine,
  q: ReplayQuery,
  clockMs: () => number = () => performance.now(),
  sleep: (ms: number) => Promise<unknown> = (ms) => Bun.sleep(ms),
): AsyncGenerator<Frame> {
  let cursorId: number | undefined;
  let t0Us: number | undefined;
  const wall0 = clockMs();
  for (;;) {
    const page = await engine.rows({ ...q, limit: q.pageRows, order: "asc", cursorId });
    const f = page.frame;
    if (f.length === 0) return;
    if (q.speed <= 0) yield f;
    else {
      const tIdx = f.columns.findIndex((c) => c.name === TIME_COLUMN[q.table]);
      const times = f.data[tIdx]! as number[];
      t0Us ??= times[0]!;
      let start = 0;
      while (start < f.length) {
        // Rows already due go out together; then wait for the next row's recorded moment.
        const dueUs = t0Us + (clockMs() - wall0) * 1000 * q.speed;
        let end = start;
        while (end < f.length && times[end]! <= dueUs) end++;
        if (end > start) {
          yield slice(f, start, end);
          start = end;
          continue;
        }
        const waitMs = (times[start]! - t0Us) / 1000 / q.speed - (clockMs() - wall0);
        await sleep(Math.min(SLEEP_SLICE_MS, Math.max(1, waitMs)));
      }
    }
    if (page.nextCursorId === null) return;
    cursorId = page.nextCursorId;
  }
}

function slice(f: Frame, start: number, end: number): Frame {
  const out = emptyFrame(f.columns);
  f.data.forEach((col, i) => {
    out.data[i]!.push(...col.slice(start, end));
  });
  out.length = end - start;
  return out;
}
