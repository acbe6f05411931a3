/**
 * BinanceSource: keeps one live connection per shard of streams, forever.
 * - Reconnects with exponential backoff and full jitter (never gives up), every attempt paced
 *   under Binance's limits (≥ 1 s between new connections, 300 attempts / 5 min per IP).
 * - Rotates make-before-break before the 24 h cut and on `serverShutdown`: the new connection
 *   must deliver a frame before the old one is closed, so nothing is lost; the overlap's
 *   duplicates are removed downstream by (table, symbol, id).
 * It hands frames on untouched; decoding and de-duplication are later stages.
 */
import type { WsClientKind } from "../../config/keys.ts";
import { type CloseReason, type ConnectionEvents, StreamConnection } from "./connection.ts";
import { combinedStreamUrl } from "./streams.ts";

export interface Backoff {
  nextDelayMs(): number;
  reset(): void;
  readonly attempt: number;
}

/** Paces new connections: how long to wait before the next attempt may start. */
export interface ConnectGate {
  msUntilNext(nowMs: number): number;
  record(nowMs: number): void;
}

export interface SourceEvents {
  onFrame(frame: string, recvTimeUs: number, shard: number, conn: StreamConnection): void;
  /** A text frame's bytes first, when the client offers them (ConnectionEvents.onFrameBytes). */
  onFrameBytes?(
    frame: Buffer,
    start: number,
    end: number,
    recvTimeUs: number,
    shard: number,
    conn: StreamConnection,
  ): boolean;
  onBinary(frame: Uint8Array, recvTimeUs: number, shard: number, conn: StreamConnection): void;
  onLifecycle?(ev: LifecycleEvent): void;
}

export type LifecycleEvent =
  | { type: "connecting"; shard: number; conn: number; attempt: number; delayMs: number }
  | { type: "open"; shard: number; conn: number; msToOpen: number }
  | { type: "first_frame"; shard: number; conn: number; msSinceOpen: number }
  | {
      type: "closed";
      shard: number;
      conn: number;
      /** The venue's host[:port], so a log line says where we could not get to. */
      host: string;
      reason: CloseReason;
      detail: string;
      /** When the next attempt starts; undefined when none follows (stopped, rotated, promoted). */
      retryInMs: number | undefined;
    }
  /** Every shard's session is open again (at start, and after any shard was down). */
  | { type: "connected"; host: string; shards: number; streams: number }
  | { type: "rotation_started"; shard: number; reason: string }
  | { type: "rotated"; shard: number; from: number; to: number };

export interface SourceOptions {
  readonly wsUrl: string;
  readonly shards: readonly (readonly string[])[];
  readonly dataTimeoutMs: number;
  /** Rotate this long after a connection opens (Binance cuts at 24 h; default 23 h). */
  readonly rotateAfterMs: number;
  /** A connection delivering this long resets the backoff. */
  readonly healthyAfterMs: number;
  readonly microseconds?: boolean;
  /** Which WebSocket client (K2_WS_CLIENT); DEFAULT_WS_CLIENT when absent. */
  readonly client?: WsClientKind;
  readonly newBackoff: () => Backoff;
  readonly gate: ConnectGate;
}

interface Shard {
  readonly index: number;
  readonly streams: readonly string[];
  readonly backoff: Backoff;
  current: StreamConnection | undefined;
  /** The make-before-break successor while a rotation is in progress. */
  next: StreamConnection | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  rotateTimer: ReturnType<typeof setTimeout> | undefined;
  healthyTimer: ReturnType<typeof setTimeout> | undefined;
  sawFirstFrame: Set<number>;
  /** When any connection of this shard last delivered a frame (0 = never). Health uses this, not
   * connection open times: a fresh connection that delivers nothing must not look healthy. */
  lastDataMs: number;
}

export class BinanceSource {
  readonly #shards: Shard[];
  readonly #host: string;
  #stopped = true;
  /** Every shard's current session open: the "connected" event fires on each change to true. */
  #allUp = false;
  attempts = 0;
  reconnects = 0;
  rotations = 0;

  constructor(
    readonly opts: SourceOptions,
    private readonly events: SourceEvents,
  ) {
    this.#host = new URL(opts.wsUrl).host;
    this.#shards = opts.shards.map((streams, index) => ({
      index,
      streams,
      backoff: opts.newBackoff(),
      current: undefined,
      next: undefined,
      timer: undefined,
      rotateTimer: undefined,
      healthyTimer: undefined,
      sawFirstFrame: new Set(),
      lastDataMs: 0,
    }));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    for (const s of this.#shards) this.#schedule(s, 0, "initial");
  }

  stop(): void {
    this.#stopped = true;
    this.#allUp = false;
    for (const s of this.#shards) {
      for (const t of [s.timer, s.rotateTimer, s.healthyTimer]) if (t) clearTimeout(t);
      s.timer = s.rotateTimer = s.healthyTimer = undefined;
      s.next?.close("stopped");
      s.current?.close("stopped");
      s.next = s.current = undefined;
    }
  }

  get shardCount(): number {
    return this.#shards.length;
  }

  /** Per shard: is a connection open, and when did it last deliver a frame (ms, performance clock). */
  shardStatus(): {
    shard: number;
    open: boolean;
    lastFrameMs: number;
    backoffAttempt: number;
    rotating: boolean;
  }[] {
    return this.#shards.map((s) => ({
      shard: s.index,
      open: s.current?.isOpen ?? false,
      lastFrameMs: s.lastDataMs,
      backoffAttempt: s.backoff.attempt,
      rotating: s.next !== undefined,
    }));
  }

  /** Backpressure: stop reading every socket while the ring is nearly full (Bun WebSocket pause). */
  pauseAll(): void {
    for (const s of this.#shards) {
      s.current?.pause();
      s.next?.pause();
    }
  }

  resumeAll(): void {
    for (const s of this.#shards) {
      s.current?.resume();
      s.next?.resume();
    }
  }

  /** Make-before-break rotation of one shard (24 h cut or serverShutdown). */
  rotate(shard: number, reason: string): void {
    const s = this.#shards[shard];
    if (!s || this.#stopped || s.next || !s.current) return;
    this.events.onLifecycle?.({ type: "rotation_started", shard, reason });
    s.next = this.#open(s, 0);
  }

  /** Start the shard's next attempt after `backoffMs` (or later, as paced); returns the delay. */
  #schedule(s: Shard, backoffMs: number, _why: string): number | undefined {
    if (this.#stopped || s.timer) return undefined;
    const now = performance.now();
    const delay = Math.max(backoffMs, this.opts.gate.msUntilNext(now));
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.#stopped || s.current) return;
      // The gate may have been taken by another shard meanwhile: ask again.
      const wait = this.opts.gate.msUntilNext(performance.now());
      if (wait > 0) {
        this.#schedule(s, wait, "paced");
        return;
      }
      s.current = this.#open(s, delay);
    }, delay);
    return delay;
  }

  #open(s: Shard, delayMs: number): StreamConnection {
    this.opts.gate.record(performance.now());
    this.attempts++;
    const url = combinedStreamUrl(this.opts.wsUrl, s.streams, this.opts.microseconds ?? true);
    const events: ConnectionEvents = {
      onFrame: (frame, recv, conn) => {
        s.lastDataMs = conn.lastFrameMs;
        if (!s.sawFirstFrame.has(conn.id)) this.#firstFrame(s, conn);
        this.events.onFrame(frame, recv, s.index, conn);
      },
      onFrameBytes: (frame, start, end, recv, conn) => {
        // Declined bytes come back through onFrame, which repeats these two (both idempotent).
        s.lastDataMs = conn.lastFrameMs;
        if (!s.sawFirstFrame.has(conn.id)) this.#firstFrame(s, conn);
        return this.events.onFrameBytes?.(frame, start, end, recv, s.index, conn) === true;
      },
      onBinary: (frame, recv, conn) => this.events.onBinary(frame, recv, s.index, conn),
      onOpen: (conn) => {
        this.events.onLifecycle?.({
          type: "open",
          shard: s.index,
          conn: conn.id,
          msToOpen: performance.now() - conn.openedAtMs,
        });
        this.#checkAllUp();
      },
      onClose: (conn, reason, detail) => this.#closed(s, conn, reason, detail),
    };
    const conn = new StreamConnection(
      s.streams,
      {
        url,
        dataTimeoutMs: this.opts.dataTimeoutMs,
        ...(this.opts.client ? { client: this.opts.client } : {}),
      },
      events,
    );
    this.events.onLifecycle?.({
      type: "connecting",
      shard: s.index,
      conn: conn.id,
      attempt: s.backoff.attempt,
      delayMs,
    });
    return conn;
  }

  #firstFrame(s: Shard, conn: StreamConnection): void {
    s.sawFirstFrame.add(conn.id);
    this.events.onLifecycle?.({
      type: "first_frame",
      shard: s.index,
      conn: conn.id,
      msSinceOpen: performance.now() - conn.openedAtMs,
    });
    if (conn === s.next) {
      // The successor delivers: now, and only now, retire the old connection.
      const old = s.current;
      s.current = conn;
      s.next = undefined;
      this.rotations++;
      if (old) {
        this.events.onLifecycle?.({ type: "rotated", shard: s.index, from: old.id, to: conn.id });
        old.close("rotated");
      }
    }
    if (conn === s.current) this.#armTimers(s, conn);
  }

  #armTimers(s: Shard, conn: StreamConnection): void {
    if (s.rotateTimer) clearTimeout(s.rotateTimer);
    s.rotateTimer = setTimeout(() => {
      s.rotateTimer = undefined;
      if (s.current === conn) this.rotate(s.index, "lifetime");
    }, this.opts.rotateAfterMs);
    if (s.healthyTimer) clearTimeout(s.healthyTimer);
    s.healthyTimer = setTimeout(() => {
      s.healthyTimer = undefined;
      if (s.current === conn && conn.isOpen) s.backoff.reset();
    }, this.opts.healthyAfterMs);
  }

  #closed(s: Shard, conn: StreamConnection, reason: CloseReason, detail: string): void {
    s.sawFirstFrame.delete(conn.id);
    const retryInMs = this.#afterClose(s, conn, reason);
    this.events.onLifecycle?.({
      type: "closed",
      shard: s.index,
      conn: conn.id,
      host: this.#host,
      reason,
      detail,
      retryInMs,
    });
  }

  /** What follows a closed session; returns the delay of the attempt it scheduled, if any. */
  #afterClose(s: Shard, conn: StreamConnection, reason: CloseReason): number | undefined {
    if (this.#stopped || reason === "stopped" || reason === "rotated") return undefined;
    if (conn === s.next) {
      // The successor failed: keep the old one, try the rotation again after a backoff.
      s.next = undefined;
      const delay = s.backoff.nextDelayMs();
      const retry = setTimeout(() => this.rotate(s.index, "retry"), delay);
      retry.unref?.();
      return delay;
    }
    if (conn !== s.current) return undefined;
    s.current = undefined;
    if (s.rotateTimer) clearTimeout(s.rotateTimer);
    s.rotateTimer = undefined;
    if (s.next) {
      // A rotation was in flight: promote the successor rather than open a third connection.
      s.current = s.next;
      s.next = undefined;
      if (s.sawFirstFrame.has(s.current.id)) this.#armTimers(s, s.current);
      return undefined;
    }
    this.#allUp = false;
    this.reconnects++;
    return this.#schedule(s, s.backoff.nextDelayMs(), reason);
  }

  #checkAllUp(): void {
    if (this.#allUp || !this.#shards.every((s) => s.current?.isOpen)) return;
    this.#allUp = true;
    this.events.onLifecycle?.({
      type: "connected",
      host: this.#host,
      shards: this.#shards.length,
      streams: this.#shards.reduce((n, s) => n + s.streams.length, 0),
    });
  }
}
