/**
 * A WebSocket client over Bun.connect (TCP, or TLS for wss://) with K2's own framing
 * (frames.ts): text frames arrive as strings through one callback, with no event object per
 * frame. The subset a market-data reader needs: the opening handshake (checked), pongs echoing
 * every ping, the closing handshake, pause/resume for backpressure, terminate.
 */
import { isUtf8 } from "node:buffer";
import {
  clientControlFrame,
  closePayload,
  WsClose,
  WsFrameReader,
  WsOpcode,
  WsProtocolError,
} from "./frames.ts";

export interface RawWebSocketEvents {
  onOpen(): void;
  /**
   * A socket read is about to be parsed: the frames it completes follow through onText /
   * onBinary. One call per read (and again where a read stopped at its time slice goes on), so
   * a receiver can read the clock once for all of them.
   */
  onRead?(): void;
  /**
   * A text frame's bytes, `frame[start, end)`, valid only during the call (the socket's chunk is
   * detached once its frames are read: release). utf8Text makes the string; a receiver that
   * takes the bytes as they are must accept only what it has checked (K2's decoder takes plain
   * ASCII only).
   */
  onText(frame: Buffer, start: number, end: number): void;
  onBinary(frame: Uint8Array): void;
  onPing(): void;
  /** Why it failed to open, in an operator's words (like connection.ts connectFailure). */
  onError(cause: string): void;
  /** Exactly once, whatever ended it (1006 when the socket went without a close frame). */
  onClose(code: number, reason: string): void;
}

export interface RawWebSocketOptions {
  readonly maxMessageBytes: number;
  /** Trusted CAs for wss:// (tests with their own certificate); the system's by default. */
  readonly ca?: string;
}

type Sock = Bun.Socket<undefined>;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** A server's handshake answer bigger than this is not one. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;
/**
 * The longest one socket's reads hold the event loop in one turn: past it the reader stops, the
 * socket is paused, and the rest is read on the next turn, after timers, HTTP requests and other
 * sockets. Bun hands a busy socket's reads over back to back, up to 11–18 of 512 KB before a
 * timer or setImmediate runs (measured against a flooding peer), and while the JIT warmed up at
 * the start of a max-rate run single reads took ~90 ms: K2's loop was held for 0.2–0.4 s.
 */
const READ_SLICE_MS = 10;

export class RawWebSocket {
  #sock: Sock | undefined;
  #open = false;
  #closed = false;
  #paused = false;
  /** Stopped at READ_SLICE_MS: the socket is paused until the rest is read on the next turn. */
  #yielding = false;
  #yields = 0;
  /** When the current turn's slice ends (performance.now() ms); 0 once the loop has turned. */
  #sliceEnd = 0;
  readonly #turned = () => {
    this.#sliceEnd = 0;
  };
  #head = "";
  readonly #key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  readonly #reader: WsFrameReader;

  constructor(
    readonly url: string,
    readonly events: RawWebSocketEvents,
    opts: RawWebSocketOptions,
  ) {
    const u = new URL(url);
    const tls = u.protocol === "wss:";
    const port = Number(u.port || (tls ? 443 : 80));
    const self = this;
    const request =
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${this.#key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    this.#reader = new WsFrameReader(
      {
        text(bytes, start, end) {
          if (!self.#closed) events.onText(bytes, start, end);
        },
        binary: (b) => {
          if (!self.#closed) events.onBinary(b);
        },
        ping: (payload) => {
          self.#write(clientControlFrame(WsOpcode.pong, payload));
          events.onPing();
        },
        pong: () => {},
        close: (code, reason) => {
          self.#write(
            clientControlFrame(
              WsOpcode.close,
              closePayload(code === WsClose.noStatus ? WsClose.normal : code, ""),
            ),
          );
          self.#finish(code, reason);
          self.#sock?.end(); // the server closes TCP next; ending our side too frees it either way
        },
      },
      opts.maxMessageBytes,
    );
    Bun.connect({
      hostname: u.hostname,
      port,
      ...(tls
        ? { tls: { serverName: u.hostname, rejectUnauthorized: true, ...(opts.ca ? { ca: opts.ca } : {}) } }
        : {}),
      socket: {
        open: (s) => {
          this.#sock = s;
          if (this.#closed) s.terminate();
          else if (!tls) s.write(request);
        },
        // TLS: the request goes once the session is up (written before, it was lost); a
        // certificate the system (or `ca`) does not vouch for ends it here.
        handshake: (s, ok, authError) => {
          if (!ok || authError) this.#fail(`TLS: ${authError ? errorText(authError) : "handshake failed"}`);
          else if (!this.#closed) s.write(request);
        },
        data: (_s, chunk) => this.#data(chunk),
        close: () =>
          this.#open
            ? this.#finish(WsClose.abnormal, "")
            : this.#fail("closed by the server before the upgrade"),
        error: (_s, err) => this.#fail(errorText(err)),
        connectError: (_s, err) => this.#fail(errorText(err)),
      },
    }).catch((err: unknown) => this.#fail(errorText(err)));
  }

  get isOpen(): boolean {
    return this.#open && !this.#closed;
  }

  pause(): void {
    this.#paused = true;
    this.#sock?.pause();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#yielding) this.#sock?.resume();
  }

  /** Reads that stopped at READ_SLICE_MS and let the event loop turn before going on. */
  get yields(): number {
    return this.#yields;
  }

  /** Start the closing handshake; the socket ends when the server answers (or is terminated). */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    if (this.#open) this.#write(clientControlFrame(WsOpcode.close, closePayload(code, reason)));
    this.#finish(code, reason);
    this.#sock?.end();
  }

  /** Drop the connection at once (a stalled peer may never answer a close). */
  terminate(): void {
    this.#finish(WsClose.abnormal, "terminated");
    this.#sock?.terminate(); // not connected yet: `open` terminates it, this being closed
  }

  #data(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      if (this.#open) {
        this.events.onRead?.();
        if (!this.#reader.push(chunk, this.#deadline())) this.#yield();
        return;
      }
      this.#handshake(chunk);
    } catch (err) {
      this.#protocolError(err);
    } finally {
      release(chunk);
    }
  }

  /** The end of this turn's slice: reads in one turn share it (READ_SLICE_MS). */
  #deadline(): number {
    if (this.#sliceEnd === 0) {
      this.#sliceEnd = performance.now() + READ_SLICE_MS;
      setImmediate(this.#turned);
    }
    return this.#sliceEnd;
  }

  /** Let the event loop turn, then read on (READ_SLICE_MS). */
  #yield(): void {
    if (this.#yielding) return;
    this.#yielding = true;
    this.#yields++;
    this.#sock?.pause();
    setImmediate(() => {
      this.#yielding = false;
      if (this.#closed) return;
      try {
        this.events.onRead?.();
        this.#sliceEnd = 0; // a new turn
        if (!this.#reader.resume(this.#deadline())) return this.#yield();
      } catch (err) {
        return this.#protocolError(err);
      }
      if (!this.#paused) this.#sock?.resume();
    });
  }

  /** A frame the reader refused fails the connection with its code; anything else is a bug. */
  #protocolError(err: unknown): void {
    if (!(err instanceof WsProtocolError)) throw err;
    this.#write(clientControlFrame(WsOpcode.close, closePayload(err.code, err.message)));
    this.#finish(err.code, err.message);
    this.#sock?.end();
  }

  /** The server's answer to the upgrade; any bytes after it are already frames. */
  #handshake(chunk: Buffer): void {
    this.#head += chunk.toString("latin1");
    const end = this.#head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.#head.length > MAX_HANDSHAKE_BYTES) this.#fail("no end to the server's handshake answer");
      return;
    }
    const lines = this.#head.slice(0, end).split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? "")?.[1];
    if (status !== "101") {
      this.#fail(`HTTP ${status ?? "?"} instead of the WebSocket upgrade (101)`);
      return;
    }
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
    const accept = new Bun.CryptoHasher("sha1").update(this.#key + GUID).digest("base64");
    const bad =
      headers.get("upgrade")?.toLowerCase() !== "websocket" || headers.get("sec-websocket-accept") !== accept
        ? "the server's upgrade answer does not match the request (Upgrade / Sec-WebSocket-Accept)"
        : headers.has("sec-websocket-extensions")
          ? `the server chose an extension K2 did not offer: ${headers.get("sec-websocket-extensions")}`
          : "";
    if (bad) {
      this.#fail(bad);
      return;
    }
    const rest = Buffer.from(this.#head.slice(end + 4), "latin1");
    this.#head = "";
    this.#open = true;
    if (this.#paused) this.#sock?.pause();
    this.events.onOpen();
    if (rest.length > 0) {
      this.events.onRead?.();
      if (!this.#reader.push(rest, this.#deadline())) this.#yield();
    }
  }

  #write(frame: Uint8Array): void {
    // Control frames are a few bytes; a full socket buffer here means the peer is gone anyway.
    if (!this.#closed) this.#sock?.write(frame);
  }

  #fail(cause: string): void {
    if (this.#closed) return;
    if (!this.#open) this.events.onError(cause);
    this.#finish(WsClose.abnormal, cause);
    this.#sock?.terminate();
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.events.onClose(code, reason);
  }
}

/**
 * Free a read's memory now. Bun hands every socket read over in a fresh ArrayBuffer (~90 KB at
 * max rate), and nothing here keeps it once its frames are read: receivers copy what they keep
 * (strings, the decoder's scratch, the WAL buffer, the reader's carry). Left to the collector,
 * the reads waited for it; detaching (`transfer(0)`) returns the memory at once: at 62 s of max
 * rate K2's RSS (30-60 s median) fell from 403 / 390 to 354 / 330 MB in two pairs of runs.
 * Only a buffer the chunk owns whole.
 */
function release(chunk: Buffer): void {
  const ab = chunk.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  if (chunk.byteOffset === 0 && ab.byteLength === chunk.length && ab.transfer) ab.transfer(0);
}

/**
 * A text frame's string. Invalid UTF-8 throws WsProtocolError (1007): called from onText, that
 * fails the connection, as RFC 6455 says (Bun would replace the bytes with U+FFFD instead).
 */
export function utf8Text(bytes: Buffer, start: number, end: number): string {
  const s = bytes.toString("utf8", start, end);
  if (s.includes("\uFFFD") && !isUtf8(bytes.subarray(start, end)))
    throw new WsProtocolError(WsClose.invalidData, "a text frame that is not UTF-8");
  return s;
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text = e?.message ?? String(err);
  return e?.code && !text.startsWith(e.code) ? `${e.code}: ${text}` : text;
}
