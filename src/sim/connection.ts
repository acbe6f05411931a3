/**
 * Per-connection state and the Binance per-connection rules that need no server-wide view:
 * the incoming-message rate limit and the ping/pong bookkeeping.
 */
import type { ServerWebSocket } from "bun";

export interface ConnData {
  id: number;
  /** Subscribed stream names, in subscription order (LIST_SUBSCRIPTIONS answers in this order). */
  streams: Set<string>;
  combined: boolean;
  micros: boolean;
  initialStreams: string[];
  openedAtMs: number;
  lastPingAtMs: number;
  /** Pings sent and not yet answered; the pong deadline runs from the oldest of them. */
  outstandingPings: number;
  firstUnansweredPingAtMs: number;
  /** Timestamps of the last `maxIncomingPerSec` incoming messages (ring). */
  recentMsgs: Float64Array;
  recentIdx: number;
  recentCount: number;
  /** Set when the server started closing it: no more sends, deadlines or counts. */
  closing: boolean;
}

export type SimSocket = ServerWebSocket<ConnData>;

export function newConnData(
  id: number,
  initialStreams: string[],
  combined: boolean,
  micros: boolean,
  maxPerSec: number,
): ConnData {
  return {
    id,
    streams: new Set(),
    combined,
    micros,
    initialStreams,
    openedAtMs: 0,
    lastPingAtMs: 0,
    outstandingPings: 0,
    firstUnansweredPingAtMs: 0,
    recentMsgs: new Float64Array(maxPerSec),
    recentIdx: 0,
    recentCount: 0,
    closing: false,
  };
}

/**
 * Binance: "WebSocket connections have a limit of 5 incoming messages per second. A message is
 * considered: a PING frame, a PONG frame, a JSON controlled message." Sliding one-second window.
 * Returns false when this message breaks the limit (the caller disconnects).
 */
export function admitMessage(d: ConnData, nowMs: number): boolean {
  const n = d.recentMsgs.length;
  const oldest = d.recentMsgs[d.recentIdx]!;
  const over = d.recentCount >= n && nowMs - oldest < 1000;
  d.recentMsgs[d.recentIdx] = nowMs;
  d.recentIdx = (d.recentIdx + 1) % n;
  if (d.recentCount < n) d.recentCount++;
  return !over;
}

/**
 * A pong answering one of our pings is not counted against the message limit: with a test ping
 * interval of 100 ms the solicited pongs alone would exceed 5/s, and at Binance's 20 s interval
 * they are negligible anyway. Unsolicited pongs count, as Binance says.
 * Returns true when the pong was solicited.
 */
export function notePong(d: ConnData): boolean {
  if (d.outstandingPings === 0) return false;
  d.outstandingPings = 0;
  d.firstUnansweredPingAtMs = 0;
  return true;
}

export function notePing(d: ConnData, nowMs: number): void {
  if (d.outstandingPings === 0) d.firstUnansweredPingAtMs = nowMs;
  d.outstandingPings++;
  d.lastPingAtMs = nowMs;
}
