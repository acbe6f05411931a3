/**
 * Rows K2 saw but could not keep (ring full, WAL refusing, shed under degradation) are recorded
 * as id runs in the gap ledger — never dropped silently. Consecutive ids of one (table, symbol,
 * cause) extend the open run; a run is handed to REST repair when it is closed: at a break in the
 * ids, or by flush() (the pipeline calls it on a timer and when pressure drops).
 */
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, type TableId } from "../model/tables.ts";
import type { GapCause, GapEntry, GapLedger } from "./gap-ledger.ts";

export class LossRecorder {
  readonly #open = new Map<string, GapEntry>();
  lostIds = 0;

  constructor(
    private readonly ledger: GapLedger,
    private readonly symbols: SymbolTable,
    private readonly onClosed: (gap: GapEntry) => void,
  ) {}

  record(kind: TableId, symbolId: number, id: number, cause: GapCause, nowUs: number): void {
    const table = TABLE_BY_ID[kind];
    // Only trade ids are consecutive and repairable from REST; a lost book row is the book's
    // resync to record (book_resync), not an id range here.
    if (table !== "trades" && table !== "agg_trades") return;
    this.lostIds++;
    const key = `${kind}:${symbolId}:${cause}`;
    const run = this.#open.get(key);
    if (run && run.state === "pending" && run.to_id === id - 1) {
      this.ledger.extend(run, id, nowUs);
      return;
    }
    if (run) this.#close(key, run);
    this.#open.set(key, this.ledger.open(table, this.symbols.name(symbolId), id, id, cause, nowUs));
  }

  flush(): void {
    for (const [key, run] of this.#open) this.#close(key, run);
  }

  #close(key: string, run: GapEntry): void {
    this.#open.delete(key);
    if (run.state === "pending") this.onClosed(run);
  }
}
