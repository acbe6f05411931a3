/** What both sides of the hand-over share (the protocol itself is described in handover.ts). */

/** The owner keeps ingesting at least this long after the newcomer's sessions opened (quiet symbols). */
export const OVERLAP_MIN_MS = 250;
export const POLL_MS = 10;

export class HandoverError extends Error {
  readonly kind = "handover";
  readonly retryable = false;
}

export type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string };
