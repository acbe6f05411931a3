/**
 * Sends row batches to JetStream with a bounded number awaiting their ack. A batch counts as
 * accepted only once acked (stored on a quorum of replicas); until then the caller keeps its rows
 * (in its WAL). A failed or timed-out publish is retried with the same Nats-Msg-Id, so a publish
 * that was stored but whose ack was lost is dropped as a duplicate inside the duplicate window.
 * While the cluster is away the window stays full and send() refuses: the caller sees that as
 * backpressure (a full disk, for the recorder), keeps its rows and offers them again later.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { TableName } from "../model/index.ts";
import { ceilingFor } from "../resilience/index.ts";
import { BusError, toBusError } from "./errors.ts";
import { subjectOf } from "./subjects.ts";

export interface OutBatch {
  readonly table: TableName;
  readonly symbol: string;
  /** encodeRows() output: rows of this (table, symbol) only. */
  readonly body: Uint8Array;
  /** rowMsgId() for a one-row message, batchMsgId() for a batch. */
  readonly msgId: string;
  /** The caller's position (its WAL seq), increasing in send order; see ackedThrough(). */
  readonly token: number;
}

export interface PublisherOptions {
  /** Writer shard count: part of the subject. */
  readonly shards: number;
  /**
   * The bound: batches from the oldest unacked one on (acked ones behind it included, since the
   * caller cannot release its WAL past that one either), retries included.
   */
  readonly maxInFlight: number;
  /** A publish without an ack after this long is retried. */
  readonly ackTimeoutMs: number;
  /** Ceiling of the jittered retry delay (base 50 ms, doubling per attempt of that batch). */
  readonly retryMaxDelayMs?: number;
  /** Each batch once, when acked: stored (duplicate false) or already there (duplicate true). */
  readonly onAcked?: (b: OutBatch, streamSeq: number, duplicate: boolean) => void;
  /** Each failed attempt (the batch is retried). */
  readonly onError?: (e: BusError, b: OutBatch) => void;
}

export interface PublisherStats {
  sent: number;
  acked: number;
  /** Acks that said JetStream already held this msg id (the other recorder's copy, or a retry). */
  duplicates: number;
  retries: number;
  /** send() calls refused because the window was full. */
  refused: number;
}

interface Entry {
  readonly b: OutBatch;
  attempts: number;
  acked: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const RETRY_BASE_MS = 50;

export class BusPublisher {
  readonly stats: PublisherStats = { sent: 0, acked: 0, duplicates: 0, retries: 0, refused: 0 };
  /** Send order; the head is the oldest batch not yet acked (acked ones behind it wait their turn). */
  readonly #window: Entry[] = [];
  #inFlight = 0;
  #ackedThrough = Number.NEGATIVE_INFINITY;
  #lastToken = Number.NEGATIVE_INFINITY;
  #closed = false;
  #roomWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #lastError: BusError | undefined;

  constructor(
    readonly js: JetStreamClient,
    readonly opts: PublisherOptions,
  ) {
    if (!Number.isInteger(opts.maxInFlight) || opts.maxInFlight < 1)
      throw new BusError("config", `maxInFlight must be a positive integer, got ${opts.maxInFlight}`);
  }

  /** Batches sent and not acked yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Highest token such that every batch sent with a token up to it is acked (-Infinity before any). */
  get ackedThrough(): number {
    return this.#ackedThrough;
  }

  get lastError(): BusError | undefined {
    return this.#lastError;
  }

  /** Start publishing `b`; false when the window is full (or the publisher closed): keep it, retry after whenRoom(). */
  send(b: OutBatch): boolean {
    if (this.#closed || this.#window.length >= this.opts.maxInFlight) {
      this.stats.refused++;
      return false;
    }
    if (!(b.token > this.#lastToken))
      throw new RangeError(
        `batch token ${b.token} does not follow ${this.#lastToken}: tokens increase in send order`,
      );
    this.#lastToken = b.token;
    const e: Entry = { b, attempts: 0, acked: false, timer: undefined };
    this.#window.push(e);
    this.#inFlight++;
    this.stats.sent++;
    this.#attempt(e);
    return true;
  }

  /** Resolves when send() would accept a batch (at once when it would now). */
  whenRoom(): Promise<void> {
    if (this.#closed || this.#window.length < this.opts.maxInFlight) return Promise.resolve();
    return new Promise((r) => this.#roomWaiters.push(r));
  }

  /** Resolves when every sent batch is acked (or the publisher is closed). */
  idle(): Promise<void> {
    if (this.#closed || this.#inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Stop retrying; batches not acked stay the caller's (they are in its WAL). */
  close(): void {
    this.#closed = true;
    for (const e of this.#window) clearTimeout(e.timer);
    this.#wake(this.#roomWaiters);
    this.#wake(this.#idleWaiters);
  }

  #attempt(e: Entry): void {
    const { b } = e;
    const subject = subjectOf(b.table, b.symbol, this.opts.shards);
    this.js.publish(subject, b.body, { msgID: b.msgId, timeout: this.opts.ackTimeoutMs }).then(
      (ack) => this.#acked(e, ack.seq, ack.duplicate),
      (err) => this.#failed(e, toBusError(`publish ${subject} (${b.msgId})`, err)),
    );
  }

  #failed(e: Entry, err: BusError): void {
    this.#lastError = err;
    this.opts.onError?.(err, e.b);
    if (this.#closed) return;
    e.attempts++;
    this.stats.retries++;
    const ceiling = ceilingFor(RETRY_BASE_MS, this.opts.retryMaxDelayMs ?? 2000, e.attempts - 1);
    e.timer = setTimeout(
      () => {
        e.timer = undefined;
        if (!this.#closed) this.#attempt(e);
      },
      Math.floor(Math.random() * (ceiling + 1)),
    );
  }

  #acked(e: Entry, seq: number, duplicate: boolean): void {
    if (e.acked) return;
    e.acked = true;
    this.#inFlight--;
    this.stats.acked++;
    if (duplicate) this.stats.duplicates++;
    this.opts.onAcked?.(e.b, seq, duplicate);
    // Advance the watermark over the acked prefix (the window never holds more than maxInFlight).
    while (this.#window.length > 0 && this.#window[0]!.acked)
      this.#ackedThrough = this.#window.shift()!.b.token;
    this.#wake(this.#roomWaiters);
    if (this.#inFlight === 0) this.#wake(this.#idleWaiters);
  }

  #wake(list: (() => void)[]): void {
    for (const r of list.splice(0)) r();
  }
}
