/**
 * REST depth snapshots for many books: one request at a time, oldest ask first, through the REST
 * circuit breaker and under the REST client's weight budget (BinanceRest queues and paces by
 * weight), so 300 books resyncing at once are fetched one after another within the budget, never
 * sent together. A symbol asks at most once at a time (a newer ask replaces the older one); every
 * fetch of a symbol until its book syncs (a failure, or an answer too old to use) waits before the
 * next, doubling up to a cap, or as long as a 429/418 said.
 */
import { RestError } from "../source/binance/rest.ts";

export interface DepthRest {
  /** The body of GET /api/v3/depth?symbol=&limit= as text. */
  depth(symbol: string, limit: number): Promise<string>;
}

export interface SnapshotBreaker {
  exec<T>(fn: () => Promise<T>): Promise<T>;
}

export interface SnapshotAnswer {
  /** The body arrived (µs on the caller's clock). */
  ok(symbolId: number, requestNo: number, body: string, recvUs: number): void;
  failed(symbolId: number, requestNo: number, error: Error): void;
}

export const SNAPSHOT_RETRY_MIN_MS = 500;
export const SNAPSHOT_RETRY_MAX_MS = 30_000;

export class SnapshotFetcher {
  /** Asked and not yet sent: symbol id → request number (Map order = order asked). */
  readonly #pending = new Map<number, number>();
  /** Per symbol: not before this time (ms), and the fetches since its book last synced. */
  readonly #notBefore = new Map<number, number>();
  readonly #tries = new Map<number, number>();
  #running = false;
  #stopped = false;
  #wake: (() => void) | null = null;
  requests = 0;
  failures = 0;

  constructor(
    private readonly rest: DepthRest,
    private readonly breaker: SnapshotBreaker | undefined,
    private readonly limit: number,
    private readonly nameOf: (symbolId: number) => string,
    private readonly answer: SnapshotAnswer,
    private readonly nowUs: () => number,
    private readonly retryMinMs = SNAPSHOT_RETRY_MIN_MS,
  ) {}

  /** Books waiting for a snapshot (sent or not). */
  get waiting(): number {
    return this.#pending.size + (this.#running ? 1 : 0);
  }

  ask(symbolId: number, requestNo: number): void {
    if (this.#stopped) return;
    this.#pending.delete(symbolId); // re-inserted last: a repeated ask waits its turn again
    this.#pending.set(symbolId, requestNo);
    this.#wake?.();
    if (!this.#running) void this.#pump();
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.clear();
    this.#wake?.();
  }

  /** The book of `symbolId` synced: its next snapshot (a later resync) may go at once. */
  synced(symbolId: number): void {
    this.#tries.delete(symbolId);
    this.#notBefore.delete(symbolId);
  }

  #backoff(n: number): number {
    return Math.min(SNAPSHOT_RETRY_MAX_MS, this.retryMinMs * 2 ** (n - 1));
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#stopped && this.#pending.size > 0) {
        const next = this.#next();
        if (next === undefined) {
          await this.#sleepUntilDue();
          continue;
        }
        const [sym, no] = next;
        this.#pending.delete(sym);
        await this.#fetch(sym, no);
      }
    } finally {
      this.#running = false;
    }
  }

  /** The oldest ask whose retry wait is over. */
  #next(): [number, number] | undefined {
    const now = this.nowUs() / 1000;
    for (const [sym, no] of this.#pending) if ((this.#notBefore.get(sym) ?? 0) <= now) return [sym, no];
    return undefined;
  }

  async #sleepUntilDue(): Promise<void> {
    const now = this.nowUs() / 1000;
    let due = Number.POSITIVE_INFINITY;
    for (const sym of this.#pending.keys()) due = Math.min(due, this.#notBefore.get(sym) ?? 0);
    const ms = Math.max(1, Math.min(due - now, SNAPSHOT_RETRY_MAX_MS));
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = null;
  }

  async #fetch(sym: number, no: number): Promise<void> {
    const name = this.nameOf(sym);
    this.requests++;
    try {
      const call = () => this.rest.depth(name, this.limit);
      const body = await (this.breaker ? this.breaker.exec(call) : call());
      // An answer that does not sync the book (older than the buffered diffs, a hole after it)
      // is asked again: not at once, or a stale source would be asked in a tight loop until the
      // weight budget is gone. Each fetch since the last sync doubles the wait (synced() resets).
      const n = (this.#tries.get(sym) ?? 0) + 1;
      this.#tries.set(sym, n);
      this.#notBefore.set(sym, this.nowUs() / 1000 + this.#backoff(n));
      if (!this.#stopped) this.answer.ok(sym, no, body, this.nowUs());
    } catch (e) {
      this.failures++;
      const n = (this.#tries.get(sym) ?? 0) + 1;
      this.#tries.set(sym, n);
      const told = e instanceof RestError ? e.retryAfterMs : 0;
      const wait = Math.max(told, this.#backoff(n));
      this.#notBefore.set(sym, this.nowUs() / 1000 + wait);
      if (!this.#stopped) this.answer.failed(sym, no, e as Error);
    }
  }
}
