/**
 * `/v1/book?at=`: the exact book at an instant from K2's stored rows (memory and files alike,
 * through the query engine's row reads): the newest checkpoint at or before it, the deltas after
 * it up to the instant (src/book/rebuild.ts), and what the gap ledger says of that instant — a
 * book inside a `book_resync` window, or before any base, is not synced and is said to be.
 */
import type { GapEntry } from "../model/gaps.ts";
import type { TableName } from "../model/tables.ts";
import type { BookWindow } from "../query/book-window.ts";
import type { RowQuery, RowResult } from "../query/rows.ts";
import { BookRebuild, type BookRow, type LevelState, type RebuiltLevel } from "./rebuild.ts";

/** Rows per engine read while rebuilding (a checkpoint of a deep book takes a few). */
const PAGE_ROWS = 10_000;

export interface BookAtDeps {
  rows(q: RowQuery): Promise<RowResult>;
  /** The aligned checkpoint and the deltas after it in one query (QueryEngine.bookWindow); optional. */
  window?(symbol: string, cpUs: number, atUs: number): Promise<BookWindow | null>;
  gaps(symbol: string): readonly GapEntry[];
  /** K2_BOOK_CHECKPOINT_MS: how far back the newest checkpoint can be (if none: the deltas since then). */
  readonly checkpointMs: number;
  /** The latest instant whose deltas are all in files (stored-through.ts); absent: no limit. */
  horizonUs?(symbol: string): number;
}

export interface BookAt {
  symbol: string;
  at_us: number;
  /**
   * synced: continuous from its base; not_synced: inside a ledgered resync; no_data: nothing
   * stored; not_stored_yet: after the last delta in files (some are still on their way).
   */
  state: "synced" | "not_synced" | "no_data" | "not_stored_yet";
  update_id: number;
  base: { kind: "checkpoint" | "snapshot" | "none"; time_us: number };
  deltas_applied: number;
  bids: RebuiltLevel[];
  asks: RebuiltLevel[];
  /** not_stored_yet: the latest instant the files answer for now. */
  stored_through_us?: number;
  /** The ledger entry whose window holds the instant, when not synced. */
  resync?: { gap_id: number; from_update_id: number; to_update_id: number; detail: string };
}

export async function bookAt(d: BookAtDeps, symbol: string, atUs: number, levels: number): Promise<BookAt> {
  const horizon = d.horizonUs?.(symbol) ?? Number.POSITIVE_INFINITY;
  if (atUs > horizon) return notStoredYet(symbol, atUs, horizon);
  const fast = d.window && (await fromWindow(d, symbol, atUs));
  if (fast) return answer(fast, symbol, atUs, levels, d.gaps(symbol));
  const { b, fromUs } = await baseAt(d, symbol, atUs);
  for await (const r of read(d, "book_deltas", symbol, fromUs, atUs)) b.delta(r);
  return answer(b, symbol, atUs, levels, d.gaps(symbol));
}

/** Most book snapshots one series request may ask for. */
export const MAX_SERIES_SNAPSHOTS = 10_000;

/**
 * The book every `intervalMs` from `startUs` to `endUs` (both in), like a recorder that had kept
 * snapshots at that interval: one pass over the stored deltas from the base at `startUs`, each
 * snapshot taken before the first delta after its instant.
 */
export async function bookSeries(
  d: BookAtDeps,
  symbol: string,
  startUs: number,
  endUs: number,
  intervalMs: number,
  levels: number,
): Promise<BookAt[]> {
  const stepUs = intervalMs * 1000;
  if (Math.floor((endUs - startUs) / stepUs) + 1 > MAX_SERIES_SNAPSHOTS)
    throw new RangeError(
      `more than ${MAX_SERIES_SNAPSHOTS} snapshots: shorten the range or widen the interval`,
    );
  const gaps = d.gaps(symbol);
  const horizon = d.horizonUs?.(symbol) ?? Number.POSITIVE_INFINITY;
  const lastUs = Math.min(endUs, horizon);
  const out: BookAt[] = [];
  let t = startUs;
  if (startUs <= lastUs) {
    const { b, fromUs } = await baseAt(d, symbol, startUs);
    for await (const r of read(d, "book_deltas", symbol, fromUs, lastUs)) {
      for (; t < r.timeUs && t <= lastUs; t += stepUs) out.push(answer(b, symbol, t, levels, gaps));
      b.delta(r);
    }
    for (; t <= lastUs; t += stepUs) out.push(answer(b, symbol, t, levels, gaps));
  }
  for (; t <= endUs; t += stepUs) out.push(notStoredYet(symbol, t, horizon));
  return out;
}

/**
 * The common case in one query: the checkpoint at the aligned instant at or before `atUs` and the
 * deltas up to it. undefined when that checkpoint is not stored (the rows-based path searches).
 */
async function fromWindow(d: BookAtDeps, symbol: string, atUs: number): Promise<BookRebuild | undefined> {
  const stepUs = d.checkpointMs * 1000;
  const cpUs = Math.floor(atUs / stepUs) * stepUs;
  const w = await d.window!(symbol, cpUs, atUs);
  if (!w || w.length === 0 || w.part[0] !== 0) return undefined;
  const cp: BookRow[] = [];
  let i = 0;
  for (; i < w.length && w.part[i] === 0; i++) cp.push(rowOf(w, i));
  const b = new BookRebuild();
  b.checkpoint(cp, cpUs, w.updateId[0]!);
  for (; i < w.length; i++) b.delta(rowOf(w, i));
  return b;
}

function rowOf(w: BookWindow, i: number): BookRow {
  return {
    ask: w.ask[i]!,
    price: w.price[i]!,
    quantity: w.quantity[i]!,
    updateId: w.updateId[i]!,
    timeUs: w.timeUs[i]!,
    isSnapshot: w.isSnapshot[i]!,
    ...(w.state[i] ? { state: w.state[i] as LevelState } : {}),
  };
}

/** The book as of the newest checkpoint at or before `atUs`, and where its deltas start. */
async function baseAt(d: BookAtDeps, symbol: string, atUs: number) {
  const b = new BookRebuild();
  const cp = await newestCheckpoint(d, symbol, atUs);
  // Without a checkpoint, the deltas of up to two intervals back must hold the REST snapshot.
  const fromUs = cp ? cp.timeUs : atUs - 2 * d.checkpointMs * 1000;
  if (cp) b.checkpoint(cp.rows, cp.timeUs, cp.updateId);
  return { b, fromUs };
}

/** An instant past what the files hold: no levels, and how far they do reach. */
export function notStoredYet(symbol: string, atUs: number, horizonUs: number): BookAt {
  return {
    symbol,
    at_us: atUs,
    state: "not_stored_yet",
    update_id: -1,
    base: { kind: "none", time_us: -1 },
    deltas_applied: 0,
    bids: [],
    asks: [],
    stored_through_us: horizonUs,
  };
}

function answer(
  b: BookRebuild,
  symbol: string,
  atUs: number,
  levels: number,
  gaps: readonly GapEntry[],
): BookAt {
  const resync = gaps.find(
    (g) =>
      g.table === "book_deltas" &&
      g.cause === "book_resync" &&
      g.detected_at_us <= atUs &&
      atUs < g.updated_at_us,
  );
  // A ledgered loss covers the instant whatever was stored around it.
  const state = resync ? "not_synced" : b.baseKind === "none" ? "no_data" : "synced";
  return {
    symbol,
    at_us: atUs,
    state,
    update_id: b.updateId,
    base: { kind: b.baseKind, time_us: b.baseTimeUs },
    deltas_applied: b.deltasApplied,
    bids: b.top(false, levels),
    asks: b.top(true, levels),
    ...(resync
      ? {
          resync: {
            gap_id: resync.id,
            from_update_id: resync.from_id,
            to_update_id: resync.to_id,
            detail: resync.detail,
          },
        }
      : {}),
  };
}

async function newestCheckpoint(d: BookAtDeps, symbol: string, atUs: number) {
  // Checkpoints sit at instants aligned to K2_BOOK_CHECKPOINT_MS: the one at or before the
  // instant is read straight away; a search only when it is missing (not synced then, or a
  // previous run with another interval).
  const stepUs = d.checkpointMs * 1000;
  const aligned = Math.floor(atUs / stepUs) * stepUs;
  const rows: BookRow[] = [];
  for await (const r of read(d, "book_checkpoints", symbol, aligned, aligned)) rows.push(r);
  if (rows.length > 0) return { timeUs: aligned, updateId: rows[0]!.updateId, rows };
  const last = await d.rows({
    table: "book_checkpoints",
    symbol,
    fromUs: atUs - d.checkpointMs * 1000,
    toUs: atUs + 1, // row reads end before toUs: the instant itself is in
    limit: 1,
    order: "desc",
  });
  if (last.frame.length === 0) return undefined;
  const col = columnsOf(last.frame.columns.map((c) => c.name));
  const timeUs = Number(last.frame.data[col("checkpoint_time_us")]![0]);
  const updateId = Number(last.frame.data[col("update_id")]![0]);
  for await (const r of read(d, "book_checkpoints", symbol, timeUs, timeUs)) rows.push(r);
  return { timeUs, updateId, rows };
}

/** Every row of a book table with its time in [fromUs, toUs] (both in), in id order, page by page. */
async function* read(d: BookAtDeps, table: TableName, symbol: string, fromUs: number, toUs: number) {
  let cursorId: number | undefined;
  for (;;) {
    const page = await d.rows({
      table,
      symbol,
      fromUs,
      toUs: toUs + 1, // row reads end before toUs
      limit: PAGE_ROWS,
      order: "asc",
      ...(cursorId === undefined ? {} : { cursorId }),
    });
    const f = page.frame;
    const col = columnsOf(f.columns.map((c) => c.name));
    const checkpoint = table === "book_checkpoints";
    const side = f.data[col("side")]!;
    const price = f.data[col("price")]!;
    const qty = f.data[col("quantity")]!;
    const upd = f.data[col(checkpoint ? "update_id" : "last_update_id")]!;
    const time = f.data[col(checkpoint ? "known_time_us" : "event_time_us")]!;
    const snap = checkpoint ? undefined : f.data[col("is_snapshot")]!;
    const state = checkpoint ? f.data[col("level_state")]! : undefined;
    for (let i = 0; i < f.length; i++)
      yield {
        ask: side[i] === "ask",
        price: scaled(price[i]),
        quantity: scaled(qty[i]),
        updateId: Number(upd[i]),
        timeUs: Number(time[i]),
        isSnapshot: snap ? snap[i] === true : false,
        ...(state ? { state: state[i] as LevelState } : {}),
      } satisfies BookRow;
    if (page.nextCursorId === null) return;
    cursorId = page.nextCursorId;
  }
}

function columnsOf(names: readonly string[]) {
  return (name: string): number => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`book rows lack column ${name}`);
    return i;
  };
}

/** A stored DECIMAL(18,8) as the scaled integer (the engine gives bigint; text tolerated). */
function scaled(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "string") {
    const [i, f = ""] = v.split(".");
    const neg = i!.startsWith("-");
    const mag = BigInt(i!.replace("-", "")) * 100_000_000n + BigInt(f.padEnd(8, "0").slice(0, 8));
    return neg ? -mag : mag;
  }
  throw new Error(`not a decimal: ${String(v)}`);
}
