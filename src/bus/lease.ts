/**
 * One writer per shard, across hosts: a lease kept in JetStream. The lease of `writer-<i>-of-<N>`
 * is the last message on `k2lease.writer-<i>-of-<N>` of a small stream that keeps one message per
 * subject. The holder renews it every RENEW_MS by publishing with "expected last subject
 * sequence" = its own last renewal, so the first other writer to write wins and the holder learns
 * it lost (its next renewal is refused). A newcomer that finds a lease waits one TTL: if the lease
 * moved meanwhile its holder is alive and the newcomer refuses; if not, it takes it over with the
 * same expectation (of two newcomers, one wins). No clocks are compared, only sequences.
 */
import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { BusError, toBusError } from "./errors.ts";

export const LEASE_STREAM = "K2_LEASES";
const LEASE_ROOT = "k2lease";
/** A holder renews this often; a lease not renewed for LEASE_TTL_MS is free. */
export const RENEW_MS = 1_000;
export const LEASE_TTL_MS = 5_000;

export interface LeaseHolder {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
}

export class LeaseTakenError extends BusError {
  constructor(
    readonly lease: string,
    readonly holder: LeaseHolder | undefined,
  ) {
    super(
      "config",
      `${lease} is held by another writer${holder ? ` (${holder.id}, pid ${holder.pid} on ${holder.host})` : ""}: one writer per shard`,
    );
  }
}

async function ensureLeaseStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  const cfg = {
    name: LEASE_STREAM,
    subjects: [`${LEASE_ROOT}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    num_replicas: replicas,
  };
  try {
    await jsm.streams.info(LEASE_STREAM);
  } catch (e) {
    if (!/not found/i.test((e as Error).message)) throw toBusError(`stream ${LEASE_STREAM}`, e);
    await jsm.streams.add(cfg).catch((err: Error) => {
      // Two writers creating it at once: the other one's stream is as good.
      if (!/already in use|exists/i.test(err.message)) throw toBusError(`stream ${LEASE_STREAM}`, err);
    });
  }
}

export interface Lease {
  /** Resolves when the lease is lost (another writer took it) or released. */
  readonly lost: Promise<string>;
  /** Stop renewing and delete the lease, so a successor need not wait a TTL. */
  release(): Promise<void>;
}

/** Take the lease `name` for `me`, or throw LeaseTakenError naming its live holder. */
export async function acquireLease(
  js: JetStreamClient,
  jsm: JetStreamManager,
  name: string,
  me: LeaseHolder,
  replicas: number,
): Promise<Lease> {
  await ensureLeaseStream(jsm, replicas);
  const subject = `${LEASE_ROOT}.${name}`;
  const last = async () => {
    const m = await jsm.streams.getMessage(LEASE_STREAM, { last_by_subj: subject }).catch(() => null);
    return m ? { seq: m.seq, holder: m.json<LeaseHolder>() } : { seq: 0, holder: undefined };
  };
  let seen = await last();
  if (seen.seq !== 0 && seen.holder?.id !== me.id) {
    // Someone held it: alive if it renewed within a TTL.
    await Bun.sleep(LEASE_TTL_MS);
    const now = await last();
    if (now.seq !== seen.seq) throw new LeaseTakenError(name, now.holder);
    seen = now;
  }
  const body = JSON.stringify(me);
  let mine: number;
  try {
    mine = (await js.publish(subject, body, { expect: { lastSubjectSequence: seen.seq } })).seq;
  } catch (e) {
    if (/wrong last sequence/i.test((e as Error).message))
      throw new LeaseTakenError(name, (await last()).holder);
    throw toBusError(`lease ${name}`, e);
  }
  let onLost: (why: string) => void = () => {};
  const lost = new Promise<string>((r) => {
    onLost = r;
  });
  let released = false;
  const timer = setInterval(() => {
    js.publish(subject, body, { expect: { lastSubjectSequence: mine } }).then(
      (ack) => {
        mine = ack.seq;
      },
      (e: Error) => {
        // Refused for a wrong sequence: another writer holds it now. (A cluster that is away
        // refuses every renewal, but no newcomer can take the lease then either.)
        if (/wrong last sequence/i.test(e.message)) {
          clearInterval(timer);
          if (!released) onLost(`lease ${name} taken by another writer`);
        }
      },
    );
  }, RENEW_MS);
  return {
    lost,
    async release() {
      released = true;
      clearInterval(timer);
      onLost("released");
      // Only our own renewal is deleted: if another writer took the lease, its message stays.
      await jsm.streams.deleteMessage(LEASE_STREAM, mine).catch(() => false);
    },
  };
}
