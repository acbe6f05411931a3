/**
 * What a gap is, for every part that speaks of one (ingest finds and repairs them, the ledger
 * keeps them, a hand-over passes the open ones on, the query API serves them).
 */
export type GapState = "pending" | "repairing" | "repaired" | "missing_at_source" | "unrepaired";
export type GapTable = "trades" | "agg_trades";
export type GapCause = "stream" | "restart" | "overflow" | "shed" | "storage";

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
