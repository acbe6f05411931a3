/**
 * The gap ledger: every id range K2 knows it did not receive over the socket, and what became of
 * it. A demanding user asks "is this day complete?" — the ledger answers with ranges, not hope.
 * States: pending → repairing → repaired | missing_at_source | unrepaired (budget spent / gave up),
 * and `partial` mixtures are split into separate entries so each range has exactly one state.
 * Bounded: the newest `capacity` entries are kept; evictions are counted.
 */
import type { GapCause, GapEntry, GapState, GapTable } from "../model/gaps.ts";

export type { GapCause, GapEntry, GapState, GapTable };

/** Entries a ledger keeps (and its journal reads back): the newest ones. */
export const GAP_LEDGER_CAPACITY = 10_000;

export class GapLedger {
  readonly #entries: GapEntry[] = [];
  #nextId = 1;
  evicted = 0;
  readonly counts: Record<GapState, number> = {
    pending: 0,
    repairing: 0,
    repaired: 0,
    missing_at_source: 0,
    unrepaired: 0,
  };
  /** Ids (not ranges) per final state, for metrics. */
  readonly idCounts: Record<GapState, number> = { ...this.counts };

  /** Called with an entry whenever it is opened or changes (the journal writes it down). */
  onChange: (e: GapEntry) => void = () => {};

  constructor(readonly capacity = GAP_LEDGER_CAPACITY) {}

  /**
   * Entries of an earlier run (from the journal), before anything else is opened; new entries
   * get ids above `usedUpTo` (every id the journal holds, restored or not).
   */
  restore(entries: readonly GapEntry[], usedUpTo = 0): void {
    this.#nextId = Math.max(this.#nextId, usedUpTo + 1);
    for (const e of entries) {
      this.#entries.push({ ...e });
      this.counts[e.state]++;
      this.idCounts[e.state] += e.to_id - e.from_id + 1;
      this.#nextId = Math.max(this.#nextId, e.id + 1);
    }
  }

  open(table: GapTable, symbol: string, from: number, to: number, cause: GapCause, nowUs: number): GapEntry {
    const e: GapEntry = {
      id: this.#nextId++,
      table,
      symbol,
      from_id: from,
      to_id: to,
      cause,
      state: "pending",
      detected_at_us: nowUs,
      updated_at_us: nowUs,
      attempts: 0,
      detail: "",
    };
    this.#entries.push(e);
    this.counts.pending++;
    this.idCounts.pending += to - from + 1;
    this.onChange(e);
    if (this.#entries.length > this.capacity) {
      const old = this.#entries.shift();
      if (old) this.#uncount(old);
      this.evicted++;
    }
    return e;
  }

  /** Grow a pending entry by one id at its end (a run of lost ids). */
  extend(e: GapEntry, toId: number, nowUs: number): void {
    this.idCounts[e.state] += toId - e.to_id;
    e.to_id = toId;
    e.updated_at_us = nowUs;
    this.onChange(e);
  }

  /** Move `e` to a new state. */
  /**
   * A gap wider than `maxIds` (K2_GAP_MAX_IDS) is not worth a REST repair: it is marked
   * unrepaired here, and true says the caller must not hand it to the repairer.
   */
  refuseOversized(e: GapEntry, maxIds: number, nowUs: number): boolean {
    const ids = e.to_id - e.from_id + 1;
    if (ids <= maxIds) return false;
    this.set(e, "unrepaired", nowUs, `gap of ${ids} ids exceeds K2_GAP_MAX_IDS=${maxIds}`);
    return true;
  }

  set(e: GapEntry, state: GapState, nowUs: number, detail = ""): void {
    this.#uncount(e);
    e.state = state;
    e.updated_at_us = nowUs;
    if (detail) e.detail = detail;
    this.counts[state]++;
    this.idCounts[state] += e.to_id - e.from_id + 1;
    this.onChange(e);
  }

  /**
   * Settle `e` with the outcome of each of its sub-ranges (they must tile [from_id, to_id]):
   * the first part keeps the entry, the others become entries of their own, so every id of the
   * original gap is in exactly one entry with exactly one state.
   */
  resolve(
    e: GapEntry,
    parts: readonly { from: number; to: number; state: GapState; detail: string }[],
    nowUs: number,
  ): void {
    const first = parts[0];
    if (!first) return;
    this.#uncount(e);
    e.from_id = first.from;
    e.to_id = first.to;
    this.counts[e.state]++;
    this.idCounts[e.state] += e.to_id - e.from_id + 1;
    this.set(e, first.state, nowUs, first.detail);
    for (const p of parts.slice(1)) {
      const sub = this.open(e.table, e.symbol, p.from, p.to, e.cause, nowUs);
      sub.detected_at_us = e.detected_at_us;
      sub.attempts = e.attempts;
      this.set(sub, p.state, nowUs, p.detail);
    }
  }

  #uncount(e: GapEntry): void {
    this.counts[e.state]--;
    this.idCounts[e.state] -= e.to_id - e.from_id + 1;
  }

  entries(filter: { symbol?: string; table?: GapTable; state?: GapState } = {}): readonly GapEntry[] {
    return this.#entries.filter(
      (e) =>
        (filter.symbol === undefined || e.symbol === filter.symbol) &&
        (filter.table === undefined || e.table === filter.table) &&
        (filter.state === undefined || e.state === filter.state),
    );
  }

  /** Entries still waiting for, or under, repair. */
  openEntries(): readonly GapEntry[] {
    return this.#entries.filter((e) => e.state === "pending" || e.state === "repairing");
  }
}
