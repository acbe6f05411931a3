/**
 * `/v1/book` on a query node (issue 18): the books the writers stored, rebuilt as a single process
 * does (src/book/at.ts: the checkpoint at or before the instant, then the deltas), but without the
 * capture and its gap ledger, which live in the recorders:
 * - the live book (`/v1/book` without `at`, `/v1/book/stream`) is answered 501, naming the role
 *   that keeps it (a recorder, which serves no /v1; or a single process, K2_ROLE=all);
 * - whether an instant lies where the stored book was not continuous is read from the stored
 *   chain of update ids (book-chain.ts) instead of the ledger, and said as `not_synced` with the
 *   window in `resync` as a single process says it;
 * - an instant with no stored diff event of its book in the checkpoint interval after it (the
 *   newest rows, or a quiet book) is vouched for only by a stored top snapshot at or after it
 *   with the same update id (recorders write one every K2_BOOK_SNAPSHOT_MS while a book is
 *   synced, also when it is quiet): until then the writers may not have its newest rows yet, or
 *   the recorders were not synced, and the answer is `not_synced`.
 */
import type { BookAnswer, BookApi } from "../book/api.ts";
import { levelsOut, seriesAnswer, seriesSnapshot } from "../book/api.ts";
import { type BookAt, type BookAtDeps, bookAt, bookSeries, notStoredYet } from "../book/at.ts";
import type { Config } from "../config/index.ts";
import { HttpError } from "../http/index.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { RowQuery, RowResult } from "../query/rows.ts";
import { BookChain, type ChainWindow } from "./book-chain.ts";

/**
 * Rows per look past the instant: the next diff event is usually among the first few rows, and
 * every row read is converted for JS, so pages are small.
 */
const LOOK_ROWS = 1000;
/**
 * Pages of that look at most (a REST snapshot of 5,000 levels a side, 10,000 rows, may come first):
 * past them, a stored top snapshot must vouch for the instant.
 */
const LOOK_PAGES = 11;

export const LIVE_BOOK_MESSAGE =
  "the live order book is kept by the process that captures it: a recorder (K2_ROLE=recorder, which serves no /v1) or a single process (K2_ROLE=all); a query node answers /v1/book?at=, /v1/book/snapshots and /v1/book/deltas from the stored rows";

/** The column of `name` in a row page (the book tables' stored names, model/tables.ts). */
function column(r: RowResult, name: string): unknown[] {
  const i = r.frame.columns.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`book rows lack column ${name}`);
  return r.frame.data[i]!;
}

/** Feed a page of book_deltas rows (or a checkpoint's update id) to the chain. */
function observe(chain: BookChain, table: RowQuery["table"], r: RowResult): void {
  if (r.frame.length === 0) return;
  if (table === "book_checkpoints") {
    chain.base(Number(column(r, "update_id")[0]), Number(column(r, "checkpoint_time_us")[0]));
    return;
  }
  if (table !== "book_deltas") return;
  const first = column(r, "first_update_id");
  const last = column(r, "last_update_id");
  const time = column(r, "event_time_us");
  const snap = column(r, "is_snapshot");
  for (let i = 0; i < r.frame.length; i++)
    chain.row(Number(first[i]), Number(last[i]), Number(time[i]), snap[i] === true);
}

export function openStoredBooks(config: Config, engine: QueryEngine): BookApi | undefined {
  if (!config.streams.includes("depth")) return undefined;
  const kept = new Set(config.symbols);
  // Bounded looks past an instant (a read ordered by id over every later file would scan the rest
  // of the day): the next event of a busy book comes within one checkpoint interval; a quiet
  // book's top snapshot within one snapshot interval (two, for a late timer).
  const lookUs = config.bookCheckpointMs * 1000;
  const vouchUs = 2 * config.bookSnapshotMs * 1000;
  /** Deps for one request: every row read also goes through its own chain. */
  const depsFor = (chain: BookChain): BookAtDeps => ({
    rows: async (q) => {
      const r = await engine.rows(q);
      observe(chain, q.table, r);
      return r;
    },
    // No ledger here: the chain's windows are applied to the answer afterwards (answer, series).
    gaps: () => [],
    checkpointMs: config.bookCheckpointMs,
  });

  /** Read on past `atUs` to the first diff event (which says whether the chain held across it). */
  const lookPast = async (chain: BookChain, symbol: string, atUs: number): Promise<boolean> => {
    const before = chain.events;
    let cursorId: number | undefined;
    for (let page = 0; page < LOOK_PAGES; page++) {
      const r = await engine.rows({
        table: "book_deltas",
        symbol,
        fromUs: atUs + 1,
        toUs: atUs + lookUs,
        limit: LOOK_ROWS,
        order: "asc",
        ...(cursorId === undefined ? {} : { cursorId }),
      });
      observe(chain, "book_deltas", r);
      if (chain.events > before) return true;
      if (r.nextCursorId === null) return false;
      cursorId = r.nextCursorId;
    }
    return false;
  };

  /** A stored top snapshot at or after `atUs` of the book's update id: it was synced then. */
  const vouched = async (symbol: string, atUs: number, updateId: number): Promise<boolean> => {
    const r = await engine.rows({
      table: "book_snapshots",
      symbol,
      fromUs: atUs,
      toUs: atUs + vouchUs,
      limit: 1,
      order: "asc",
    });
    return r.frame.length > 0 && Number(column(r, "update_id")[0]) === updateId;
  };

  /**
   * The newest stored diff event's time (catalog coverage; -1: none). An instant after it that
   * nothing vouches for is `not_stored_yet`, as in a single process before a flush
   * (book/stored-through.ts): the rows on their way may change it. With rows stored after the
   * instant but none soon after it (bounded looks), it is `not_synced`.
   */
  const newestEventUs = (symbol: string): number =>
    engine.coverage().find((c) => c.table === "book_deltas" && c.symbol === symbol)?.lastUs ?? -1;

  const notContinuous = (w: ChainWindow, why: string): BookAt["resync"] => ({
    gap_id: -1, // not a ledger entry: found in the stored rows
    from_update_id: w.fromId,
    to_update_id: w.toId,
    detail: why,
  });

  return {
    async answer(symbol, atUs, levels): Promise<BookAnswer | undefined> {
      if (!kept.has(symbol)) return undefined;
      if (atUs === undefined) throw new HttpError(501, "not_on_this_role", LIVE_BOOK_MESSAGE);
      const chain = new BookChain();
      const at = await bookAt(depsFor(chain), symbol, atUs, levels);
      let out: BookAt = at;
      if (at.state === "synced") {
        const seen = await lookPast(chain, symbol, atUs);
        const w = chain.windowAt(atUs);
        if (w)
          out = {
            ...at,
            state: "not_synced",
            resync: notContinuous(w, "updates missing from the stored rows (no recorder stored them)"),
          };
        else if (!seen && !(await vouched(symbol, atUs, at.update_id))) {
          const newest = newestEventUs(symbol);
          out =
            newest <= atUs
              ? notStoredYet(symbol, atUs, newest)
              : {
                  ...at,
                  state: "not_synced",
                  resync: notContinuous(
                    { fromUs: atUs, toUs: Number.POSITIVE_INFINITY, fromId: at.update_id + 1, toId: -1 },
                    "no stored row soon after this instant vouches for the book",
                  ),
                };
        }
      }
      return { ...out, bids: levelsOut(out.bids), asks: levelsOut(out.asks) };
    },
    async series(symbol, startUs, endUs, intervalMs, levels) {
      if (!kept.has(symbol)) return undefined;
      const chain = new BookChain();
      const all = await bookSeries(depsFor(chain), symbol, startUs, endUs, intervalMs, levels);
      const seen = await lookPast(chain, symbol, endUs);
      const lastVouched = seen || (await vouched(symbol, endUs, all.at(-1)?.update_id ?? -1));
      return seriesAnswer({ symbol, startUs, endUs, intervalMs, levels }, all, (s, a) => {
        if (s.state !== "synced") return s;
        if (chain.windowAt(a.at_us)) return { ...s, state: "not_synced" as const };
        // After the chain's last event read, only a vouched end keeps the tail synced.
        if (lastVouched || a.update_id !== chain.updateId) return s;
        const newest = newestEventUs(symbol);
        return newest <= a.at_us
          ? seriesSnapshot(notStoredYet(symbol, a.at_us, newest))
          : { ...s, state: "not_synced" as const };
      });
    },
  };
}
