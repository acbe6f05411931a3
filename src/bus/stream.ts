/**
 * The one JetStream stream between recorders and writers, created or brought to the configured
 * settings at start-up (by every recorder and writer: whoever comes first creates it).
 * Retention is by limits, not work queue: query nodes read its newest rows too. When it is full it
 * refuses new messages (discard new) instead of dropping old ones, so a publish fails, the rows stay
 * in the recorder's WAL and the recorder slows down: a stream that is full behaves like a full disk.
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import { BusError, toBusError } from "./errors.ts";
import { STREAM_SUBJECTS } from "./subjects.ts";

export interface BusStreamConfig {
  /** Stream name (JetStream: letters, digits, `-`, `_`). */
  readonly name: string;
  /** Copies of every message, on different servers (1..5; 3 survives one server lost). */
  readonly replicas: number;
  /** How long JetStream remembers a Nats-Msg-Id to drop a repeat; each id costs server memory. */
  readonly duplicateWindowMs: number;
  /** Messages older than this are deleted whatever their consumers (0 = no age limit). */
  readonly maxAgeMs: number;
  /** Size bound of the stream on each server (-1 = none); past it publishes are refused. */
  readonly maxBytes: number;
}

export const BUS_STREAM_DEFAULTS: BusStreamConfig = {
  name: "K2",
  replicas: 3,
  duplicateWindowMs: 120_000,
  maxAgeMs: 7 * 86_400_000,
  maxBytes: -1,
};

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NS_PER_MS = 1_000_000;

export function checkStreamConfig(c: BusStreamConfig): void {
  const bad = (m: string) => new BusError("config", `stream ${JSON.stringify(c.name)}: ${m}`);
  if (!NAME_RE.test(c.name)) throw bad("the name must be 1-64 letters, digits, '-' or '_'");
  if (!Number.isInteger(c.replicas) || c.replicas < 1 || c.replicas > 5)
    throw bad(`replicas must be an integer from 1 to 5, got ${c.replicas}`);
  if (!Number.isInteger(c.duplicateWindowMs) || c.duplicateWindowMs < 1)
    throw bad(`the duplicate window must be a positive whole number of ms, got ${c.duplicateWindowMs}`);
  if (!Number.isInteger(c.maxAgeMs) || c.maxAgeMs < 0)
    throw bad(`max age must be a whole number of ms ≥ 0, got ${c.maxAgeMs}`);
  if (c.maxAgeMs > 0 && c.duplicateWindowMs > c.maxAgeMs)
    throw bad(
      `the duplicate window (${c.duplicateWindowMs} ms) cannot be longer than max age (${c.maxAgeMs} ms)`,
    );
  if (!Number.isInteger(c.maxBytes) || (c.maxBytes < 1 && c.maxBytes !== -1))
    throw bad(`max bytes must be a positive integer or -1 (no limit), got ${c.maxBytes}`);
}

/** Create the stream, or update one whose settings differ; a stream we cannot reconcile is a BusError. */
export async function ensureStream(jsm: JetStreamManager, c: BusStreamConfig): Promise<StreamInfo> {
  checkStreamConfig(c);
  const want = {
    subjects: [STREAM_SUBJECTS],
    num_replicas: c.replicas,
    duplicate_window: c.duplicateWindowMs * NS_PER_MS,
    max_age: c.maxAgeMs * NS_PER_MS,
    max_bytes: c.maxBytes,
    discard: DiscardPolicy.New,
  };
  let have: StreamInfo | undefined;
  try {
    have = await jsm.streams.info(c.name);
  } catch (e) {
    if (!/not found/i.test((e as Error).message)) throw toBusError(`stream ${c.name}`, e);
  }
  try {
    if (!have)
      return await jsm.streams.add({
        name: c.name,
        ...want,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
      });
    const h = have.config;
    if (h.storage !== StorageType.File || h.retention !== RetentionPolicy.Limits)
      throw new BusError(
        "config",
        `stream ${c.name} exists with ${h.storage} storage and ${h.retention} retention; K2 needs file and limits (remove it or pick another name)`,
      );
    const same =
      h.subjects?.length === 1 &&
      h.subjects[0] === STREAM_SUBJECTS &&
      h.num_replicas === want.num_replicas &&
      h.duplicate_window === want.duplicate_window &&
      h.max_age === want.max_age &&
      h.max_bytes === want.max_bytes &&
      h.discard === want.discard;
    return same ? have : await jsm.streams.update(c.name, { ...h, ...want });
  } catch (e) {
    throw toBusError(`stream ${c.name}`, e);
  }
}
