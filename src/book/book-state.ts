/**
 * What the capture (capture.ts) keeps per book beyond its synchroniser, and the small converters
 * it needs: levels as the API shows them, a snapshot kept until the stream reaches it.
 */
import { DepthFrame } from "../decode/binance/index.ts";
import type { LevelState, RebuiltLevel } from "./rebuild.ts";
import { type BookLevels, LEVEL_BEYOND, LEVEL_EXACT, LEVEL_UNVERIFIED } from "./side.ts";
import type { BookSync } from "./sync.ts";

const STATE_NAMES: LevelState[] = [];
STATE_NAMES[LEVEL_EXACT] = "exact";
STATE_NAMES[LEVEL_BEYOND] = "beyond";
STATE_NAMES[LEVEL_UNVERIFIED] = "unverified";

export function rebuilt(l: BookLevels): RebuiltLevel[] {
  const out: RebuiltLevel[] = [];
  for (let k = 0; k < l.n; k++)
    out.push({
      price: l.price(k),
      quantity: l.quantity(k),
      state: STATE_NAMES[l.state[k]!]!,
      known_time_us: l.knownUs[k]!,
    });
  return out;
}

/** A loss of continuity waiting for the stream time at which the book is exact again. */
export interface OpenResync {
  fromId: number;
  toId: number;
  startUs: number;
  detail: string;
}

export class CapturedBook {
  /** Stream time (E) of the last event the stored book holds. */
  lastEventUs = -1;
  lastRecvUs = -1;
  /** Next instants (ms) to emit, -1 until the book is first synced. */
  nextTopMs = -1;
  nextCheckpointMs = -1;
  resyncs = 0;
  partialChecks = 0;
  partialMismatches = 0;
  /** What a previous run stored (update id, event time), ledgered as lost up to the first sync. */
  restart: { updateId: number; eventTimeUs: number } | undefined;
  /**
   * A REST snapshot that synced the book before any diff reached its lastUpdateId: it is stored
   * once the stream reaches it, with that diff's E as its time (see #anchor).
   */
  pending = false;
  snapCopy: DepthFrame | undefined;
  /** Resyncs (or the restart) to ledger once the book's stream time of exactness is known. */
  open: OpenResync[] = [];
  /** Stream time from which the book is exact again (set by #anchor). */
  anchoredUs = -1;
  constructor(
    readonly name: string,
    readonly sync: BookSync,
  ) {}
}

/** A copy of a decoded snapshot's levels and ids into `into` (grown as needed; cold path). */
export function copyFrame(f: DepthFrame, into: DepthFrame | undefined): DepthFrame {
  const c = into ?? new DepthFrame();
  c.kind = f.kind;
  c.symbolId = f.symbolId;
  c.firstId = f.firstId;
  c.lastId = f.lastId;
  c.eventTimeUs = f.eventTimeUs;
  c.recvTimeUs = f.recvTimeUs;
  for (const [from, to] of [
    [f.bids, c.bids],
    [f.asks, c.asks],
  ] as const) {
    if (from.n > 0) to.ensure(from.n - 1);
    to.pxw.set(from.pxw.subarray(0, 2 * from.n));
    to.qtyw.set(from.qtyw.subarray(0, 2 * from.n));
    to.n = from.n;
  }
  return c;
}
