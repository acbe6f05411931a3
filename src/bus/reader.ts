/**
 * A writer shard's view of the stream: one durable pull consumer per (shard, shard count), filtered
 * on `k2.*.<shard>.*`, explicit acks. The writer fetches, writes its file, and only once the file
 * is committed calls commit(): a message not committed within ack-wait (a writer that crashed or
 * stalled) is delivered again, to this writer or its replacement. An ack can still be lost on its
 * way (a server dies after the file is committed): the writer then sees the rows again and drops
 * them on (table, symbol, id), which it must do anyway for redeliveries.
 */
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { TableName } from "../model/index.ts";
import { BusError, toBusError } from "./errors.ts";
import { checkShards, parseKlineSubject, parseSubject, shardFilter } from "./subjects.ts";

export interface ReaderOptions {
  readonly stream: string;
  readonly shard: number;
  readonly shards: number;
  /** A fetched message not committed after this long is delivered again. */
  readonly ackWaitMs: number;
  /** Messages delivered and not committed at once, across this shard's writers (the server's bound). */
  readonly maxAckPending: number;
}

interface MessageBase {
  readonly shard: number;
  readonly symbol: string;
  readonly streamSeq: number;
  /** 1 on the first delivery; more means an earlier delivery was not committed in time. */
  readonly deliveries: number;
}

/** Rows of one (table, symbol). */
export interface RowMessage extends MessageBase {
  readonly kind: "rows";
  readonly table: TableName;
  /** encodeRows() output: decode with decodeRows(body, table, ...). */
  readonly body: Uint8Array;
}

/** One recorder's copy of a closed 1m kline (subjects.ts KLINE_SUBJECT_KIND). */
export interface KlineMessage extends MessageBase {
  readonly kind: "kline";
  /** encodeKline() output: decode with decodeKline(). */
  readonly body: Uint8Array;
}

export type InMessage = RowMessage | KlineMessage;

export interface Fetched {
  readonly messages: InMessage[];
  /** Messages on the shard's subjects that no K2 recorder wrote; terminated (never redelivered). */
  readonly rejected: { readonly subject: string; readonly streamSeq: number; readonly error: BusError }[];
  /** Why the fetch ended early, when it did after some messages had arrived. */
  readonly error?: BusError;
}

const NS_PER_MS = 1_000_000;

export function durableName(shard: number, shards: number): string {
  return `k2-writer-${shard}-of-${shards}`;
}

export class BusReader {
  readonly #pending = new Map<InMessage, JsMsg>();
  #closed = false;

  private constructor(
    readonly nc: NatsConnection,
    readonly opts: ReaderOptions,
    readonly durable: string,
    /** Looked up once: a lookup per fetch made each fetch slower than the one before (measured). */
    readonly consumer: Consumer,
  ) {}

  /** Create or adopt this shard's durable consumer (ack-wait and pending bound brought up to date). */
  static async open(
    nc: NatsConnection,
    js: JetStreamClient,
    jsm: JetStreamManager,
    opts: ReaderOptions,
  ): Promise<BusReader> {
    checkShards(opts.shards);
    const filter = shardFilter(opts.shard, opts.shards);
    if (!Number.isInteger(opts.ackWaitMs) || opts.ackWaitMs < 1000)
      throw new BusError("config", `ack wait must be at least 1000 ms, got ${opts.ackWaitMs}`);
    if (!Number.isInteger(opts.maxAckPending) || opts.maxAckPending < 1)
      throw new BusError("config", `max ack pending must be a positive integer, got ${opts.maxAckPending}`);
    const durable = durableName(opts.shard, opts.shards);
    const cfg = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: filter,
      ack_wait: opts.ackWaitMs * NS_PER_MS,
      max_ack_pending: opts.maxAckPending,
    };
    try {
      const have = await jsm.consumers.info(opts.stream, durable).catch((e: Error) => {
        if (/not found/i.test(e.message)) return undefined;
        throw e;
      });
      if (!have) await jsm.consumers.add(opts.stream, cfg);
      else if (have.config.filter_subject !== filter)
        throw new BusError(
          "config",
          `consumer ${durable} filters ${have.config.filter_subject}, expected ${filter}: remove it or fix the shard settings`,
        );
      else if (have.config.ack_wait !== cfg.ack_wait || have.config.max_ack_pending !== cfg.max_ack_pending)
        await jsm.consumers.update(opts.stream, durable, {
          ack_wait: cfg.ack_wait,
          max_ack_pending: cfg.max_ack_pending,
        });
    } catch (e) {
      throw toBusError(`consumer ${durable} on stream ${opts.stream}`, e);
    }
    try {
      return new BusReader(nc, opts, durable, await js.consumers.get(opts.stream, durable));
    } catch (e) {
      throw toBusError(`consumer ${durable} on stream ${opts.stream}`, e);
    }
  }

  /** Fetched and not yet committed (bounded by the server's maxAckPending). */
  get uncommitted(): number {
    return this.#pending.size;
  }

  /**
   * Up to `max` messages, waiting at most `expiresMs` (≥ 1000, the client's floor) when fewer are
   * there. The client gives up on a fetch after two missed idle heartbeats (expiresMs / 2 each): a
   * busy event loop or server wants a longer expiry. Messages received before a failure are
   * returned (with the failure in `error`); a failure before any is thrown.
   */
  async fetch(max: number, expiresMs = 5000): Promise<Fetched> {
    if (this.#closed) throw new BusError("closed", `reader ${this.durable} is closed`);
    const messages: InMessage[] = [];
    const rejected: Fetched["rejected"][number][] = [];
    try {
      const iter = await this.consumer.fetch({ max_messages: max, expires: expiresMs });
      for await (const m of iter) {
        try {
          const at = { body: m.data, streamSeq: m.info.streamSequence, deliveries: m.info.deliveryCount };
          const k = parseKlineSubject(m.subject);
          const msg: InMessage = k
            ? { kind: "kline", ...k, ...at }
            : { kind: "rows", ...parseSubject(m.subject), ...at };
          this.#pending.set(msg, m);
          messages.push(msg);
        } catch (e) {
          // No reason text: server 2.9 does not read `+TERM <reason>` as a termination.
          m.term();
          rejected.push({ subject: m.subject, streamSeq: m.info.streamSequence, error: e as BusError });
        }
      }
      if (rejected.length > 0) await this.nc.flush();
    } catch (e) {
      const error = toBusError(`fetch from ${this.durable}`, e);
      if (messages.length === 0 && rejected.length === 0) throw error;
      return { messages, rejected, error };
    }
    return { messages, rejected };
  }

  /**
   * Ack `messages`: call only once the rows they carry are in a committed file. Resolves after
   * the acks left this client (a flush); acks of messages not fetched by this reader are refused.
   */
  async commit(messages: readonly InMessage[]): Promise<void> {
    for (const msg of messages) {
      const m = this.#pending.get(msg);
      if (!m)
        throw new RangeError(
          `message ${msg.streamSeq} was not fetched by ${this.durable} or is already committed`,
        );
      m.ack();
      this.#pending.delete(msg);
    }
    try {
      await this.nc.flush();
    } catch (e) {
      throw toBusError(`commit to ${this.durable}`, e);
    }
  }

  /** Forget uncommitted messages (the server delivers them again after ack-wait). */
  close(): void {
    this.#closed = true;
    this.#pending.clear();
  }
}
