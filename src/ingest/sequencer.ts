/**
 * Per (table, symbol) id continuity, on the hot path, without allocation.
 * Binance trade ids and aggregate ids are consecutive per symbol: a jump is a gap, an id at or
 * below the last one is a duplicate (reconnect or rotation overlap). bookTicker update ids are
 * increasing but not consecutive per symbol (one sequence per order book across all updates we
 * may not subscribe to), so quotes are checked for duplicates only. So are the order-book tables:
 * their composed ids (model/book-rows.ts) rise per symbol but skip by design.
 */
import { MAX_SYMBOLS } from "../model/symbols.ts";
import { isBookTable, TABLE_ID_MAX, Table } from "../model/tables.ts";

export const Seq = { NEW: 0, DUPLICATE: 1, GAP: 2, FIRST: 3 } as const;
export type SeqStatus = (typeof Seq)[keyof typeof Seq];

const KINDS = TABLE_ID_MAX + 1; // index 0 unused

export class Sequencer {
  /** Last accepted id per (kind, symbol); -1 = none seen yet. */
  readonly #last = new Float64Array(KINDS * MAX_SYMBOLS).fill(-1);
  /** 1 while a (kind, symbol) was seeded from a previous run and no live id followed yet. */
  readonly #seeded = new Uint8Array(KINDS * MAX_SYMBOLS);
  /** After a GAP: the missing range [gapFrom, gapTo]. Read right after check() returns GAP. */
  gapFrom = 0;
  gapTo = 0;
  /** After a GAP: true when it lies between a previous run's last id and this run's first. */
  gapAfterRestart = false;
  duplicates = 0;
  gaps = 0;

  /**
   * Classify `id` for (kind, symbol) and, unless it is a duplicate, make it the last id.
   * FIRST: nothing known before it (see `seed` for restarts).
   */
  check(kind: number, symbolId: number, id: number): SeqStatus {
    const k = kind * MAX_SYMBOLS + symbolId;
    const last = this.#last[k]!;
    if (last < 0) {
      this.#last[k] = id;
      return Seq.FIRST;
    }
    if (id <= last) {
      this.duplicates++;
      return Seq.DUPLICATE;
    }
    this.#last[k] = id;
    const afterRestart = this.#seeded[k] === 1;
    this.#seeded[k] = 0;
    if (id === last + 1 || kind === Table.quotes || isBookTable(kind)) return Seq.NEW;
    this.gapAfterRestart = afterRestart;
    this.gapFrom = last + 1;
    this.gapTo = id - 1;
    this.gaps++;
    return Seq.GAP;
  }

  /**
   * The last id known to be stored (e.g. the catalog's max id at start), so a restart finds its
   * gap: the first id after a seed that skips ids is a GAP with `gapAfterRestart` set.
   */
  seed(kind: number, symbolId: number, lastId: number): void {
    const k = kind * MAX_SYMBOLS + symbolId;
    if (lastId > this.#last[k]!) {
      this.#last[k] = lastId;
      this.#seeded[k] = 1;
    }
  }

  last(kind: number, symbolId: number): number {
    return this.#last[kind * MAX_SYMBOLS + symbolId]!;
  }
}
