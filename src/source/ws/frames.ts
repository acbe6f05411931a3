/**
 * RFC 6455 framing for a client: reads the server's frames out of the socket's byte chunks and
 * encodes the client's few control frames (masked, as a client must). Why K2 has its own: Bun's
 * WebSocket client makes a MessageEvent per frame and costs ~0.65 µs of CPU per frame against
 * ~0.29 µs for this reader over Bun.connect, the frame's string included (native-bench/
 * ws-receive.ts): at Binance's busiest rates Bun's receive alone was a fifth of K2's CPU per row.
 *
 * No extension is negotiated (no permessage-deflate), so any RSV bit is a protocol error.
 */

export const WsOpcode = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Close codes K2 sends or reports (RFC 6455 §7.4.1). */
export const WsClose = {
  normal: 1000,
  protocolError: 1002,
  noStatus: 1005,
  abnormal: 1006,
  invalidData: 1007,
  tooBig: 1009,
} as const;

/** What the reader hands over; `text` gets the bytes' range so the caller picks the conversion. */
export interface WsFrameSink {
  text(bytes: Buffer, start: number, end: number): void;
  binary(bytes: Uint8Array): void;
  ping(payload: Uint8Array): void;
  pong(): void;
  close(code: number, reason: string): void;
}

/** A frame the reader refuses: the connection must be failed with `code`. */
export class WsProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "WsProtocolError";
  }
}

/**
 * Incremental reader: `push` every chunk in order. A frame split across chunks is kept (copied
 * once) until the rest arrives; whole frames are handed over straight from the chunk. A message
 * split into fragments is assembled before it is handed over.
 */
export class WsFrameReader {
  #carry: Buffer = Buffer.allocUnsafe(0);
  #carryLen = 0;
  /** Fragments of a message in progress (opcode of its first frame), or none. */
  #fragments: Buffer[] = [];
  #fragmentOp = -1;
  #fragmentBytes = 0;

  constructor(
    readonly sink: WsFrameSink,
    /** Largest message accepted (bytes); a bigger one fails the connection with 1009. */
    readonly maxMessageBytes: number,
  ) {}

  /**
   * Read every whole frame of `chunk` (after what was carried over); throws WsProtocolError.
   * False when it stopped at `deadline` (performance.now() ms) with whole frames left: they are
   * kept, in order, for `resume` (or the next push).
   */
  push(chunk: Buffer, deadline = Number.POSITIVE_INFINITY): boolean {
    let buf = chunk;
    if (this.#carryLen > 0) {
      const need = this.#carryLen + chunk.length;
      if (need > this.#carry.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.#carry.length));
        this.#carry.copy(grown, 0, 0, this.#carryLen);
        this.#carry = grown;
      }
      chunk.copy(this.#carry, this.#carryLen);
      buf = this.#carry;
      this.#carryLen = 0;
      return this.#read(buf, need, deadline);
    }
    return this.#read(buf, buf.length, deadline);
  }

  /** Go on reading what a push stopped at its deadline left; false when it stopped again. */
  resume(deadline = Number.POSITIVE_INFINITY): boolean {
    const n = this.#carryLen;
    if (n === 0) return true;
    this.#carryLen = 0;
    return this.#read(this.#carry, n, deadline);
  }

  #read(buf: Buffer, n: number, deadline: number): boolean {
    let i = 0;
    let frames = 0;
    let done = true;
    for (;;) {
      if (n - i < 2) break;
      const b0 = buf[i]!;
      const b1 = buf[i + 1]!;
      if (b1 & 0x80) throw new WsProtocolError(WsClose.protocolError, "the server masked a frame");
      if (b0 & 0x70) throw new WsProtocolError(WsClose.protocolError, "RSV bits set without an extension");
      let len = b1 & 0x7f;
      let h = 2;
      if (len === 126) {
        if (n - i < 4) break;
        len = (buf[i + 2]! << 8) | buf[i + 3]!;
        h = 4;
      } else if (len === 127) {
        if (n - i < 10) break;
        const hi = buf.readUInt32BE(i + 2);
        if (hi > 0x1fffff) throw new WsProtocolError(WsClose.tooBig, "frame length beyond 2^53");
        len = hi * 2 ** 32 + buf.readUInt32BE(i + 6);
        h = 10;
      }
      const op = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (op >= 8 && (!fin || len > 125))
        throw new WsProtocolError(WsClose.protocolError, "a control frame fragmented or over 125 bytes");
      if (len > this.maxMessageBytes)
        throw new WsProtocolError(
          WsClose.tooBig,
          `frame of ${len} bytes over the ${this.maxMessageBytes}-byte limit`,
        );
      if (n - i < h + len) break;
      this.#frame(buf, op, fin, i + h, i + h + len);
      i += h + len;
      // The clock every 64 frames only: reading it costs about as much as a small frame.
      if ((++frames & 63) === 0 && i < n && performance.now() >= deadline) {
        done = false;
        break;
      }
    }
    if (i < n) this.#keep(buf, i, n);
    return done;
  }

  #keep(buf: Buffer, from: number, to: number): void {
    const rest = to - from;
    if (buf === this.#carry) {
      this.#carry.copy(this.#carry, 0, from, to);
    } else {
      if (rest > this.#carry.length) this.#carry = Buffer.allocUnsafe(Math.max(rest, 4096));
      buf.copy(this.#carry, 0, from, to);
    }
    this.#carryLen = rest;
  }

  #frame(buf: Buffer, op: number, fin: boolean, start: number, end: number): void {
    if (op >= 8) {
      if (op === WsOpcode.ping) this.sink.ping(Uint8Array.prototype.slice.call(buf, start, end));
      else if (op === WsOpcode.pong) this.sink.pong();
      else if (op === WsOpcode.close) this.#close(buf, start, end);
      else throw new WsProtocolError(WsClose.protocolError, `unknown control opcode ${op}`);
      return;
    }
    if (op === WsOpcode.continuation) {
      if (this.#fragmentOp < 0)
        throw new WsProtocolError(WsClose.protocolError, "a continuation with no message");
      this.#fragment(buf, start, end, fin);
      return;
    }
    if (op !== WsOpcode.text && op !== WsOpcode.binary)
      throw new WsProtocolError(WsClose.protocolError, `unknown data opcode ${op}`);
    if (this.#fragmentOp >= 0)
      throw new WsProtocolError(WsClose.protocolError, "a new message before the last one's final fragment");
    if (fin) {
      if (op === WsOpcode.text) this.sink.text(buf, start, end);
      else this.sink.binary(Uint8Array.prototype.slice.call(buf, start, end));
      return;
    }
    this.#fragmentOp = op;
    this.#fragment(buf, start, end, false);
  }

  #fragment(buf: Buffer, start: number, end: number, fin: boolean): void {
    this.#fragmentBytes += end - start;
    if (this.#fragmentBytes > this.maxMessageBytes)
      throw new WsProtocolError(WsClose.tooBig, `message over the ${this.maxMessageBytes}-byte limit`);
    this.#fragments.push(Buffer.from(buf.subarray(start, end)));
    if (!fin) return;
    const whole = Buffer.concat(this.#fragments);
    const op = this.#fragmentOp;
    this.#fragments = [];
    this.#fragmentOp = -1;
    this.#fragmentBytes = 0;
    if (op === WsOpcode.text) this.sink.text(whole, 0, whole.length);
    else this.sink.binary(whole);
  }

  #close(buf: Buffer, start: number, end: number): void {
    if (end - start === 1) throw new WsProtocolError(WsClose.protocolError, "a close frame of 1 byte");
    const code = end - start >= 2 ? buf.readUInt16BE(start) : WsClose.noStatus;
    this.sink.close(code, end - start > 2 ? buf.toString("utf8", start + 2, end) : "");
  }
}

/** One client frame (FIN set, masked with a fresh key as RFC 6455 §5.3 requires); payload ≤ 125 B. */
export function clientControlFrame(op: number, payload: Uint8Array): Uint8Array {
  if (payload.length > 125) throw new RangeError("a control frame's payload is at most 125 bytes");
  const out = new Uint8Array(6 + payload.length);
  out[0] = 0x80 | op;
  out[1] = 0x80 | payload.length;
  const key = crypto.getRandomValues(out.subarray(2, 6));
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ key[i & 3]!;
  return out;
}

/** A close frame's payload: the code, then the reason as UTF-8 (cut to fit 125 bytes). */
export function closePayload(code: number, reason: string): Uint8Array {
  const r = Buffer.from(reason, "utf8").subarray(0, 123);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
