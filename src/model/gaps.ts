/**
 * What a gap is, for every part that speaks of one (ingest finds and repairs them, the ledger
 * keeps them, a hand-over passes the open ones on, the query API serves them).
 */
export type GapState = "pending" | "repairing" | "repaired" | "missing_at_source" | "unrepaired";
/** `book_deltas`: an order book's lost update ids (cause book_resync); never repaired, no REST has them. */
export type GapTable = "trades" | "agg_trades" | "book_deltas";
/**
 * Why a ledger entry exists, the one list of causes:
 * - stream: the socket skipped ids; restart: ids between a previous run's last and this run's first;
 * - overflow / shed / storage: rows K2 received but could not keep (full ring, degradation, WAL);
 * - kline_shortfall: a closed 1m kline names trade ids no stored row has (issue 17, repaired by REST);
 * - kline_mismatch: a closed 1m kline disagrees with the stored trades in a way no repair explains
 *   (count surplus, OHLC or volume differ) — an alarm for an operator, never repaired automatically;
 * - book_resync: an order book lost diff events and was rebuilt from a snapshot (order-book work).
 */
export const GAP_CAUSES = [
  "stream",
  "restart",
  "overflow",
  "shed",
  "storage",
  "kline_shortfall",
  "kline_mismatch",
  "book_resync",
] as const;
export type GapCause = (typeof GAP_CAUSES)[number];

export interface GapEntry {
  readonly id: number;
  readonly table: GapTable;
  readonly symbol: string;
  from_id: number;
  to_id: number;
  readonly cause: GapCause;
  state: GapState;
  detected_at_us: number;
  updated_at_us: number;
  attempts: number;
  detail: string;
}

/** An id gap still open when a K2 stops ingesting: the next owner repairs it. */
export interface OpenGap {
  readonly table: GapTable;
  readonly symbol: string;
  readonly from_id: number;
  readonly to_id: number;
  readonly cause: GapCause;
}
