/**
 * Book events as rows of the union row layout, following src/model/book-rows.ts (the contract
 * with storage): one row per level, written into caller-owned RowColumns from slot `at` on.
 * Each function returns the slot after the last row it wrote. Nothing here allocates.
 */
import type { DepthFrame } from "../decode/binance/index.ts";
import {
  BOOK_CHECKPOINT_ROWS_MAX,
  BOOK_EVENT_ROWS_MAX,
  BOOK_SNAPSHOT_LEVELS_MAX,
  BOOK_UPDATE_ID_MAX,
  bookCheckpointId,
  bookDeltaId,
  bookSnapshotId,
  FLAG_ASK,
  FLAG_BEYOND,
  FLAG_SNAPSHOT,
  FLAG_UNVERIFIED,
} from "../model/book-rows.ts";
import type { RowColumns } from "../model/row.ts";
import { Table } from "../model/tables.ts";
import type { OrderBook } from "./book.ts";
import { type BookLevels, LEVEL_BEYOND, LEVEL_UNVERIFIED } from "./side.ts";

/** Why an event cannot become rows (the capture resyncs the book and says so). */
export class BookRowsError extends Error {}

/** The identity columns of one event's rows; `flags` is or-ed with FLAG_ASK per side. */
export interface EventHead {
  symbolId: number;
  firstId: number;
  lastId: number;
  eventTimeUs: number;
  recvTimeUs: number;
  flags: number;
}

/** Row `at`'s price and quantity from level `j` of word arrays (dec2, dec3 unused: zero). */
function levelWords(out: RowColumns, at: number, pxw: Uint32Array, qtyw: Uint32Array, j: number): void {
  out.dec0w[2 * at] = pxw[2 * j]!;
  out.dec0w[2 * at + 1] = pxw[2 * j + 1]!;
  out.dec1w[2 * at] = qtyw[2 * j]!;
  out.dec1w[2 * at + 1] = qtyw[2 * j + 1]!;
  out.dec2w[2 * at] = out.dec2w[2 * at + 1] = 0;
  out.dec3w[2 * at] = out.dec3w[2 * at + 1] = 0;
}

/** One side's levels from word arrays (DepthSide or DiffBuffer layout) as book_deltas rows. */
function deltaSide(
  out: RowColumns,
  at: number,
  h: EventHead,
  pxw: Uint32Array,
  qtyw: Uint32Array,
  from: number,
  n: number,
  flags: number,
  pos: number,
): number {
  for (let j = from; j < from + n; j++, at++, pos++) {
    out.kind[at] = Table.book_deltas;
    out.symbol_id[at] = h.symbolId;
    out.id[at] = bookDeltaId(h.lastId, pos);
    out.first_id[at] = h.firstId;
    out.last_id[at] = h.lastId;
    out.trade_time_us[at] = 0;
    out.event_time_us[at] = h.eventTimeUs;
    out.recv_time_us[at] = h.recvTimeUs;
    levelWords(out, at, pxw, qtyw, j);
    out.flags[at] = flags;
  }
  return at;
}

function checkEvent(lastId: number, rows: number): void {
  if (lastId > BOOK_UPDATE_ID_MAX)
    throw new BookRowsError(`update id ${lastId} is above ${BOOK_UPDATE_ID_MAX}: no delta id can hold it`);
  if (rows > BOOK_EVENT_ROWS_MAX)
    throw new BookRowsError(`an event of ${rows} levels is more than ${BOOK_EVENT_ROWS_MAX} rows`);
}

/** A live diff or a REST snapshot (`FLAG_SNAPSHOT` in h.flags) straight from the decoder's frame. */
export function frameRows(out: RowColumns, at: number, h: EventHead, f: DepthFrame): number {
  checkEvent(h.lastId, f.bids.n + f.asks.n);
  const a = deltaSide(out, at, h, f.bids.pxw, f.bids.qtyw, 0, f.bids.n, h.flags, 0);
  return deltaSide(out, a, h, f.asks.pxw, f.asks.qtyw, 0, f.asks.n, h.flags | FLAG_ASK, f.bids.n);
}

/** A buffered diff (DiffBuffer layout: both sides in one pool, at/n per side). */
export function bufferedRows(
  out: RowColumns,
  at: number,
  h: EventHead,
  pxw: Uint32Array,
  qtyw: Uint32Array,
  bidAt: number,
  bidN: number,
  askAt: number,
  askN: number,
): number {
  checkEvent(h.lastId, bidN + askN);
  const a = deltaSide(out, at, h, pxw, qtyw, bidAt, bidN, h.flags, 0);
  return deltaSide(out, a, h, pxw, qtyw, askAt, askN, h.flags | FLAG_ASK, bidN);
}

function stateFlags(state: number): number {
  return state === LEVEL_UNVERIFIED ? FLAG_UNVERIFIED : state === LEVEL_BEYOND ? FLAG_BEYOND : 0;
}

/**
 * The top `levels` per side at an aligned instant as book_snapshots rows. `lastEventUs` and
 * `lastRecvUs` are those of the last event applied, so a reader sees how fresh the book was.
 */
export function topRows(
  out: RowColumns,
  at: number,
  book: OrderBook,
  instantMs: number,
  levels: number,
  lastEventUs: number,
  lastRecvUs: number,
  bids: BookLevels,
  asks: BookLevels,
): number {
  if (levels > BOOK_SNAPSHOT_LEVELS_MAX)
    throw new BookRowsError(`at most ${BOOK_SNAPSHOT_LEVELS_MAX} levels`);
  book.top(levels, bids, asks);
  for (let side = 0; side < 2; side++) {
    const l = side === 0 ? bids : asks;
    for (let k = 0; k < l.n; k++, at++) {
      out.kind[at] = Table.book_snapshots;
      out.symbol_id[at] = book.symbolId;
      out.id[at] = bookSnapshotId(instantMs, side === 1, k);
      out.first_id[at] = book.updateId;
      out.last_id[at] = k;
      out.trade_time_us[at] = lastEventUs;
      out.event_time_us[at] = instantMs * 1000;
      out.recv_time_us[at] = lastRecvUs;
      levelWords(out, at, l.pxw, l.qtyw, k);
      // A snapshot says only whether a level is known; "beyond" levels are known from diffs.
      out.flags[at] = (side === 1 ? FLAG_ASK : 0) | (l.state[k] === LEVEL_UNVERIFIED ? FLAG_UNVERIFIED : 0);
    }
  }
  return at;
}

/** The whole book at an aligned second as book_checkpoints rows (each level with its state). */
export function checkpointRows(
  out: RowColumns,
  at: number,
  book: OrderBook,
  instantS: number,
  recvUs: number,
  bids: BookLevels,
  asks: BookLevels,
): number {
  book.top(Number.POSITIVE_INFINITY, bids, asks);
  if (bids.n + asks.n > BOOK_CHECKPOINT_ROWS_MAX)
    throw new BookRowsError(
      `a checkpoint of ${bids.n + asks.n} levels is more than ${BOOK_CHECKPOINT_ROWS_MAX}`,
    );
  let pos = 0;
  for (let side = 0; side < 2; side++) {
    const l = side === 0 ? bids : asks;
    for (let k = 0; k < l.n; k++, at++, pos++) {
      out.kind[at] = Table.book_checkpoints;
      out.symbol_id[at] = book.symbolId;
      out.id[at] = bookCheckpointId(instantS, pos);
      out.first_id[at] = book.updateId;
      out.last_id[at] = 0;
      out.trade_time_us[at] = l.knownUs[k]!;
      out.event_time_us[at] = instantS * 1_000_000;
      out.recv_time_us[at] = recvUs;
      levelWords(out, at, l.pxw, l.qtyw, k);
      out.flags[at] = (side === 1 ? FLAG_ASK : 0) | stateFlags(l.state[k]!);
    }
  }
  return at;
}

export { FLAG_SNAPSHOT };
