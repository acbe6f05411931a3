/**
 * Ownership of a data dir: one running K2 per folder. The lock is a Unix socket in Linux's
 * abstract namespace, named from the folder's real path: binding it succeeds for one process
 * only, and the kernel releases it when that process ends in any way (SIGKILL included), so a
 * lock is never stale. The same socket is the owner's control channel: JSON lines, one answer per
 * request, over connections that may stay open (a hand-over is one long conversation, and either
 * side learns at once when the other goes away).
 * `scope` leaves room for the scale-out roles (a writer shard owns `writer-2-of-4` of a shared
 * layout); a single process owns scope "all".
 */
import { createHash } from "node:crypto";
import { mkdirSync, realpathSync } from "node:fs";
import type { Socket, UnixSocketListener } from "bun";

/** Linux abstract socket names start with a NUL byte and have no file on disk. */
export function lockName(dataDir: string, scope = "all"): string {
  mkdirSync(dataDir, { recursive: true });
  const real = realpathSync(dataDir);
  const digest = createHash("sha256").update(`${real}\0${scope}`).digest("hex").slice(0, 32);
  return `\0k2/data-dir/${digest}`;
}

/** One connected peer of the owner's control channel. */
export interface Peer {
  readonly id: number;
  /** Called once when the peer's connection ends (it hung up, crashed, or we closed it). */
  onClose(fn: () => void): void;
}

/** One JSON request from a peer in, the answer (written back as one JSON line) out. */
export type LineHandler = (request: unknown, peer: Peer) => unknown | Promise<unknown>;

interface ConnState {
  buf: string;
  peer: Peer & { closers: (() => void)[] };
}

/** Longest request line accepted from a peer; the protocol's lines are a few hundred bytes. */
const MAX_LINE_BYTES = 64 * 1024;

export class DataDirLock {
  private listening = true;

  private constructor(
    readonly name: string,
    private readonly listener: UnixSocketListener<ConnState>,
  ) {}

  /**
   * Take the lock and answer peers with `handle`. Returns null when another process holds it.
   * Throws on any other failure (e.g. a platform without abstract sockets).
   */
  static tryAcquire(name: string, handle: LineHandler): DataDirLock | null {
    let nextId = 1;
    try {
      const listener = Bun.listen<ConnState>({
        unix: name,
        socket: {
          open: (s) => {
            const closers: (() => void)[] = [];
            s.data = { buf: "", peer: { id: nextId++, closers, onClose: (fn) => closers.push(fn) } };
          },
          data: (s, chunk) => onData(s, chunk, handle),
          close: (s) => {
            for (const fn of s.data.peer.closers.splice(0)) fn();
          },
        },
      });
      return new DataDirLock(name, listener);
    } catch (e) {
      if ((e as { code?: string }).code === "EADDRINUSE") return null;
      throw e;
    }
  }

  /** Give the lock up for a successor, but keep talking to peers already connected. */
  stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.listener.stop(false);
  }

  release(): void {
    this.listening = false;
    this.listener.stop(true);
  }
}

function onData(s: Socket<ConnState>, chunk: Buffer, handle: LineHandler): void {
  s.data.buf += chunk.toString("utf8");
  if (s.data.buf.length > MAX_LINE_BYTES) {
    s.end(`${JSON.stringify({ ok: false, error: "request line too long" })}\n`);
    return;
  }
  for (let nl = s.data.buf.indexOf("\n"); nl >= 0; nl = s.data.buf.indexOf("\n")) {
    const line = s.data.buf.slice(0, nl);
    s.data.buf = s.data.buf.slice(nl + 1);
    void answer(s, line, handle);
  }
}

async function answer(s: Socket<ConnState>, line: string, handle: LineHandler): Promise<void> {
  let reply: unknown;
  try {
    reply = await handle(JSON.parse(line), s.data.peer);
  } catch (e) {
    reply = { ok: false, error: (e as Error).message };
  }
  s.write(`${JSON.stringify(reply)}\n`);
}

/** A peer's side of the control channel: requests answered in order, one at a time. */
export class ControlClient {
  #buf = "";
  #waiting: ((v: unknown | null) => void) | undefined;
  #closed = false;
  readonly #closers: (() => void)[] = [];

  private constructor(private sock: Socket<undefined> | undefined) {}

  /** Connect to the owner, or null when nobody listens (the owner ended, or never was). */
  static async connect(name: string): Promise<ControlClient | null> {
    const c = new ControlClient(undefined);
    try {
      c.sock = await Bun.connect({
        unix: name,
        socket: {
          data: (_s, chunk) => c.#onData(chunk),
          close: () => c.#onClose(),
          error: () => c.#onClose(),
        },
      });
      return c;
    } catch {
      return null;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#closers.push(fn);
  }

  /** The answer, or null when the owner hung up or said nothing within `timeoutMs`. */
  request(body: unknown, timeoutMs: number): Promise<unknown | null> {
    if (this.#closed || this.#waiting) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      const settle = (v: unknown | null) => {
        clearTimeout(timer);
        this.#waiting = undefined;
        resolve(v);
      };
      this.#waiting = settle;
      this.sock?.write(`${JSON.stringify(body)}\n`);
    });
  }

  close(): void {
    this.sock?.end();
    this.#onClose();
  }

  #onData(chunk: Buffer): void {
    this.#buf += chunk.toString("utf8");
    for (let nl = this.#buf.indexOf("\n"); nl >= 0; nl = this.#buf.indexOf("\n")) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      let v: unknown | null = null;
      try {
        v = JSON.parse(line);
      } catch {
        v = null;
      }
      this.#waiting?.(v);
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting?.(null);
    for (const fn of this.#closers.splice(0)) fn();
  }
}

/**
 * Ask the owner one question. Resolves with its answer, or null when nobody listens (the owner
 * just ended) or no answer came within `timeoutMs` (a frozen owner).
 */
export async function ask(name: string, request: unknown, timeoutMs: number): Promise<unknown | null> {
  const c = await ControlClient.connect(name);
  if (!c) return null;
  try {
    return await c.request(request, timeoutMs);
  } finally {
    c.close();
  }
}
