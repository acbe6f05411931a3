/**
 * One WebSocket session to a combined-stream URL. Getting bytes only: it never parses fields.
 * - Client (K2_WS_CLIENT): K2's own over Bun.connect (`raw`, the default; src/source/ws/: no
 *   event object per frame, row frames offered as bytes) or Bun's WebSocket (`bun`).
 * - Pings: both clients answer server pings with a pong echoing the payload at once;
 *   we count them (Binance disconnects a client that misses pongs for 1 min).
 * - Watchdog: no frame for `dataTimeoutMs` means a silent stall → the session closes itself with
 *   reason "stall" so the owner reconnects (the old system's ping loop crashed on first tick).
 * - Backpressure: `pause()`/`resume()` stop reading from the socket while the ring is full.
 */
import { DEFAULT_WS_CLIENT, type WsClientKind } from "../../config/keys.ts";
import { RawWebSocket, utf8Text } from "../ws/client.ts";

export type CloseReason = "stall" | "remote" | "error" | "rotated" | "stopped" | "lifetime";

export interface ConnectionEvents {
  /** A text frame as a string, with our receive time in µs. */
  onFrame(frame: string, recvTimeUs: number, conn: StreamConnection): void;
  /**
   * The raw client offers each text frame's bytes first, `frame[start, end)`, valid only during
   * the call: true means taken (no string is made), false means nothing was done and onFrame
   * gets the string next, with the same receive time. Absent: always the string.
   */
  onFrameBytes?(
    frame: Buffer,
    start: number,
    end: number,
    recvTimeUs: number,
    conn: StreamConnection,
  ): boolean;
  /** A binary frame (Binance JSON streams send none; kept for the dead-letter path). */
  onBinary(frame: Uint8Array, recvTimeUs: number, conn: StreamConnection): void;
  onOpen(conn: StreamConnection): void;
  onClose(conn: StreamConnection, reason: CloseReason, detail: string): void;
}

/** The largest message the raw client accepts (Binance's frames are far smaller). */
const RAW_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** What StreamConnection needs of either client once it is built. */
interface Transport {
  close(code: number, reason: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
}

export interface ConnectionOptions {
  readonly url: string;
  /** Which client reads the socket (K2_WS_CLIENT); DEFAULT_WS_CLIENT when absent. */
  readonly client?: WsClientKind;
  readonly dataTimeoutMs: number;
  /** Watchdog tick; a fraction of the timeout so a stall is seen within ~1.1× the timeout. */
  readonly watchdogTickMs?: number;
}

let nextId = 1;

/**
 * Why a WebSocket never opened, in words an operator can act on: the system error code
 * (ECONNREFUSED, ENOTFOUND, EPROTO for TLS...) with Bun's text, or the HTTP status a server
 * answered instead of the upgrade.
 */
export function connectFailure(ev: Event): string {
  const e = ev as Event & { message?: string; error?: { code?: string; message?: string } };
  const text = (e.message ?? e.error?.message ?? "").replace(/^WebSocket connection to '[^']*' failed: /, "");
  const status = /Expected 101 status code: (\d+)/.exec(text);
  if (status) return `HTTP ${status[1]} instead of the WebSocket upgrade (101)`;
  const code = e.error?.code;
  if (code && text) return `${code}: ${text}`;
  return code || text || "connection failed";
}

/** Wall clock in µs, from performance.timeOrigin + now() so it is monotonic within the process. */
export function nowUs(): number {
  return wallUs(performance.now());
}

/** A performance.now() reading as wall-clock µs (nowUs for a reading already taken). */
function wallUs(perfMs: number): number {
  return Math.round((performance.timeOrigin + perfMs) * 1000);
}

export class StreamConnection {
  readonly id = nextId++;
  readonly openedAtMs: number;
  frames = 0;
  pings = 0;
  lastFrameMs: number;
  #transport: Transport;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #open = false;
  /** While paused for backpressure the silence is ours, not the peer's: the watchdog waits. */
  #paused = false;
  /**
   * K2's client reads the clock once per socket read (onRead) and its text frames share it:
   * they came off the socket together. performance.now() costs ~40 ns here (58-94 ns with the
   * machine busy), ~4 % of K2's CPU per row at max rate when it was read for every frame.
   */
  #readMs = 0;
  #readUs = 0;

  constructor(
    readonly streams: readonly string[],
    readonly opts: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.openedAtMs = performance.now();
    this.lastFrameMs = this.openedAtMs;
    this.#transport =
      (opts.client ?? DEFAULT_WS_CLIENT) === "raw" ? this.#raw(opts.url) : this.#bun(opts.url);
    const tick = opts.watchdogTickMs ?? Math.max(10, Math.min(1000, Math.floor(opts.dataTimeoutMs / 10)));
    this.#watchdog = setInterval(() => {
      if (!this.#paused && performance.now() - this.lastFrameMs > opts.dataTimeoutMs) {
        this.close("stall", `no frame for ${opts.dataTimeoutMs} ms`);
      }
    }, tick);
  }

  /** Our receive time and the frame counters, once per frame (Bun's client, binary frames). */
  #stamp(): number {
    // One clock read per frame serves both.
    const nowMs = performance.now();
    this.frames++;
    this.lastFrameMs = nowMs;
    return wallUs(nowMs);
  }

  #opened(): void {
    this.#open = true;
    this.lastFrameMs = performance.now();
    this.events.onOpen(this);
  }

  #bun(url: string): Transport {
    const ws = new WebSocket(url);
    // Text frames arrive as strings; binary as Buffer (binaryType "nodebuffer" in Bun).
    ws.onmessage = (ev) => {
      if (this.#closed) return;
      const recv = this.#stamp();
      const d = ev.data;
      if (typeof d === "string") this.events.onFrame(d, recv, this);
      else this.events.onBinary(d instanceof Uint8Array ? d : new Uint8Array(d as ArrayBuffer), recv, this);
    };
    ws.addEventListener("ping" as "open", () => {
      this.pings++;
    });
    ws.onopen = () => this.#opened();
    // Before the session opens, the error event is the only place that says why (onclose only
    // carries 1006): keep its cause for the close that follows.
    let cause = "";
    ws.onerror = (ev) => {
      if (!this.#open) cause = connectFailure(ev);
    };
    ws.onclose = (ev) =>
      this.#finish(this.#open ? "remote" : "error", cause || `code ${ev.code} ${ev.reason}`.trim());
    const w = ws as unknown as { pause?: () => void; resume?: () => void; terminate?: () => void };
    return {
      close: (code, reason) => ws.close(code, reason),
      terminate: () => (w.terminate ? w.terminate() : ws.close(1000, "stall")),
      pause: () => w.pause?.(),
      resume: () => w.resume?.(),
    };
  }

  #raw(url: string): Transport {
    let cause = "";
    return new RawWebSocket(
      url,
      {
        onOpen: () => this.#opened(),
        onRead: () => {
          this.#readMs = performance.now();
          this.#readUs = wallUs(this.#readMs);
        },
        onText: (bytes, start, end) => {
          if (this.#closed) return;
          const recv = this.#readUs;
          this.frames++;
          this.lastFrameMs = this.#readMs;
          const ev = this.events;
          if (ev.onFrameBytes?.(bytes, start, end, recv, this) !== true)
            ev.onFrame(utf8Text(bytes, start, end), recv, this);
        },
        onBinary: (frame) => {
          if (!this.#closed) this.events.onBinary(frame, this.#stamp(), this);
        },
        onPing: () => {
          this.pings++;
        },
        onError: (c) => {
          cause = c;
        },
        onClose: (code, reason) =>
          this.#finish(this.#open ? "remote" : "error", cause || `code ${code} ${reason}`.trim()),
      },
      { maxMessageBytes: RAW_MAX_MESSAGE_BYTES },
    );
  }

  get isOpen(): boolean {
    return this.#open && !this.#closed;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#transport.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.lastFrameMs = performance.now();
    this.#transport.resume();
  }

  /** Close with a reason; the owner learns it through onClose exactly once. */
  close(reason: CloseReason, detail = ""): void {
    if (this.#closed) return;
    // A stalled peer may never answer a close handshake: terminate instead of waiting.
    // #finish first: the raw client reports its own close at once, which must not win.
    this.#finish(reason, detail);
    if (reason === "stall") this.#transport.terminate();
    else this.#transport.close(1000, reason);
  }

  #finish(reason: CloseReason, detail: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    this.events.onClose(this, reason, detail);
  }
}
